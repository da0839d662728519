import { BehaviourObserver } from '../../src/behaviour/observer.js';
import type { ObservedCall } from '../../src/behaviour/call.js';
import { buildLoadPlan } from '../../src/engine/plan.js';
import { Recorder } from '../../src/metrics/recorder.js';
import type { ChaosFacts, ResultDocument } from '../../src/model/result.js';
import { emptyStats, type ProxyStats } from '../../src/proxy/stats.js';
import { buildResultDocument } from '../../src/report/result.js';
import { judgeAsChaos } from '../../src/session/chaos.js';
import { documentSource, evaluateThresholds } from '../../src/thresholds/evaluate.js';
import { createRandom } from '../../src/util/random.js';

/**
 * The chaos result the reporters' tests read (test/fixtures/behaviour-result.json): a gateway in
 * front of two providers, its dependency calls made up here and folded by the real BehaviourObserver,
 * so every histogram and series in `behaviour` is a real encoding. Deterministic: a seeded PRNG, a
 * fixed start time, times on the run clock only. test/report/behaviour-fixture.test.ts checks the
 * file is what this makes (RESIL_UPDATE_FIXTURES=1 rewrites it).
 *
 * What the gateway does, 40 requests/s for 12 s, `openai` first and `anthropic` as its failover:
 * - openai answers in 30-60 ms; anthropic in 80-120 ms.
 * - Every 8th request gets a 429 with Retry-After: 1s; the gateway waits 1 s plus up to 200 ms,
 *   except every 5th of those, which it retries after 250-300 ms (a Retry-After violation).
 * - Every 20th request is held (fault `timeout`); the gateway gives up after 200 ms and retries 100 ms later.
 * - Every 30th request gets two 503s, retried after 100 ms then 200 ms (each ±20%): exponential backoff.
 * - Requests 77 and 355 get a 400 and are retried once (a non-retryable retry, of a POST without an
 *   Idempotency-Key), then given up.
 * - 4s..7s: openai fails every call (503). The gateway fails over to anthropic 2-5 ms after each 503
 *   and its breaker opens at 4.5 s: from then on calls go to anthropic first, but for one probe a
 *   second (5.5 s, 6.5 s) to openai. From 7.5 s it is closed. A retry due inside the window or while
 *   the breaker is open goes the same way.
 * - Every 25th request's calls carry no X-Request-Id (keyed by their body): coverage 96%. The other
 *   calls carry resil's X-Request-Id, and as Idempotency-Key too but for the two 400s.
 */
export function behaviourFixture(): ResultDocument {
  const random = createRandom(12);
  const between = (low: number, high: number) => low + random() * (high - low);
  const jitter = (ms: number) => ms * between(0.8, 1.2);
  const RATE = 40;
  const DURATION_MS = 12_000;
  const WINDOW = { source: '4s..7s', startMs: 4000, endMs: 7000, down: false };
  const BREAKER_OPEN_MS = 4500;
  const BREAKER_CLOSED_MS = 7500;

  const calls: ObservedCall[] = [];
  const recorder = new Recorder(0, false);
  const outcomes: Array<{ endMs: number; startMs: number; status: number }> = [];
  const stats: Record<string, ProxyStats> = { openai: emptyStats(), anthropic: emptyStats() };

  for (let i = 0; i < (RATE * DURATION_MS) / 1000; i++) {
    const startMs = (i * 1000) / RATE;
    const propagated = i % 25 !== 24;
    // It sends an Idempotency-Key (resil's X-Request-Id) with every call but those of the 400s.
    const keyed = propagated && i !== 77 && i !== 355;
    const key = propagated ? `req-${i}` : `POST /v1/chat #${i.toString(16).padStart(8, '0')}`;
    let at = startMs + between(0.5, 2);
    let status = 0;
    const call = (provider: string, durationMs: number, answer: number, extra: Partial<ObservedCall> = {}) => {
      const done: ObservedCall = {
        provider,
        method: 'POST',
        key,
        keySource: keyed ? 'idempotency-key' : propagated ? 'x-request-id' : 'body',
        runRequest: propagated,
        idempotencyKey: keyed,
        arrivedMs: round(at),
        endedMs: round(at + durationMs),
        status: answer,
        fault: undefined,
        retryAfterMs: undefined,
        clientGone: false,
        openAtEnd: false,
        reused: calls.length > 8,
        ...extra,
      };
      calls.push(done);
      const counts = stats[provider]!;
      counts.calls++;
      counts.eligible++;
      counts.considered++;
      if (done.fault === undefined) counts.passedThrough++;
      else counts.injected[done.fault] = (counts.injected[done.fault] ?? 0) + 1;
      at = done.endedMs;
      status = answer;
    };
    const wait = (ms: number) => {
      at += ms;
    };
    const healthy = (provider: string) => call(provider, provider === 'openai' ? between(30, 60) : between(80, 120), 200);
    const inWindow = () => at >= WINDOW.startMs && at < WINDOW.endMs;
    const breakerOpen = () => at >= BREAKER_OPEN_MS && at < BREAKER_CLOSED_MS;
    // An attempt that may succeed: at anthropic while the breaker is open, else at openai, failed over when it is down.
    const attempt = () => {
      if (breakerOpen()) return healthy('anthropic');
      if (!inWindow()) return healthy('openai');
      call('openai', between(5, 15), 503, { fault: 'status:503' });
      wait(between(2, 5));
      healthy('anthropic');
    };

    const probe = breakerOpen() && [5500, 6500].some((t) => startMs <= t && t < startMs + 1000 / RATE);
    if (probe) {
      call('openai', between(5, 15), 503, { fault: 'status:503' });
      wait(between(2, 5));
      healthy('anthropic');
    } else if (breakerOpen() || inWindow()) {
      attempt();
    } else if (i === 77 || i === 355) {
      call('openai', between(10, 20), 400, { fault: 'status:400' });
      wait(jitter(100));
      call('openai', between(10, 20), 400, { fault: 'status:400' });
    } else if (i % 8 === 3) {
      call('openai', between(5, 15), 429, { fault: 'status:429', retryAfterMs: 1000 });
      wait(i % 40 === 11 ? between(250, 300) : 1000 + between(0, 200));
      attempt();
    } else if (i % 20 === 6) {
      call('openai', 200 + between(0, 5), 0, { fault: 'timeout', clientGone: true });
      wait(jitter(100));
      attempt();
    } else if (i % 30 === 13) {
      call('openai', between(5, 15), 503, { fault: 'status:503' });
      wait(jitter(100));
      call('openai', between(5, 15), 503, { fault: 'status:503' });
      wait(jitter(200));
      attempt();
    } else {
      attempt();
    }
    outcomes.push({ startMs, endMs: at + between(0.5, 2), status });
  }

  // The recorder takes outcomes in time order, as a run's executor reports them.
  for (const { startMs, endMs, status } of outcomes.sort((a, b) => a.endMs - b.endMs)) {
    recorder.recordResponse(endMs, endMs - startMs, endMs - startMs, status, status === 200, false);
  }
  recorder.finish(DURATION_MS);
  // Connections in use at once: requests in flight, each on its own.
  const edges = outcomes
    .flatMap(({ startMs, endMs }) => [[startMs, 1] as const, [endMs, -1] as const])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let inFlight = 0;
  for (const [, step] of edges) recorder.peakConnections = Math.max(recorder.peakConnections, (inFlight += step));
  const observer = new BehaviourObserver({ correlate: { mode: 'auto' }, longestRetryAfterMs: 1000 });
  observer.addProvider('openai', [WINDOW]);
  observer.addProvider('anthropic', []);
  // A proxy reports a call when it is over.
  for (const done of calls.sort((a, b) => a.endedMs - b.endedMs)) observer.record(done);

  const plan = buildLoadPlan({
    url: 'http://127.0.0.1:3000/v1/chat',
    method: 'POST',
    rate: RATE,
    duration: `${DURATION_MS / 1000}s`,
    concurrency: 50,
    seed: 12,
    thresholds: FIXTURE_THRESHOLDS,
  });
  judgeAsChaos(plan);
  const chaos: ChaosFacts = {
    providers: {
      openai: { ...stats.openai!, target: 'https://api.openai.com/', listen: 'http://127.0.0.1:9101' },
      anthropic: { ...stats.anthropic!, target: 'https://api.anthropic.com/', listen: 'http://127.0.0.1:9102' },
    },
    windows: [WINDOW],
  };
  const document = buildResultDocument(plan, {
    command: 'run',
    startedAt: new Date('2025-06-01T12:00:00.000Z'),
    durationMs: DURATION_MS,
    interrupted: false,
    snapshot: recorder.snapshot(),
    chaos,
  });
  document.scenario = 'provider outage';
  document.behaviour = observer.document(DURATION_MS);
  // Judged again now that the behaviour is in (a run judges it with the proxies' report).
  document.thresholds = evaluateThresholds(plan.thresholds, { ...documentSource(document), chaos });
  return document;
}

/** What the fixture is judged on: most pass; three fail with their sentence, one is n/a and says why. */
const FIXTURE_THRESHOLDS = [
  'success_rate>=0.99',
  'p99<2s',
  'retry_after_violations==0',
  'attempts_max<=4',
  'dependency_timeout<=500ms',
  'breaker_open_after{openai}<2s',
  'failover_delay_p99{anthropic}<50ms',
  'non_retryable_retries==0',
  'retry_storm<=1.5',
  'dependency_calls{anthropic}>0',
  'dependency_timeout_max{anthropic}<1s',
];

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
