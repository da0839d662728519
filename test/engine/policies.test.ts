import { ConsecutiveBreaker, circuitBreaker, handleWhenResult } from 'cockatiel';
import { Breaking, Failover, type PolicyCounters, RetryOn, Retrying } from '../../src/engine/policies.js';
import { buildPolicyPlan, type PolicyOptions } from '../../src/engine/policy-options.js';
import { type AttemptOutcome, type AttemptSender, CANCELLED, errorOutcome } from '../../src/engine/sender.js';

// The policies compose around the AttemptSender contract alone: here around a scripted sender that
// is not a connection (a stand-in for another transport), so what each policy decides is visible
// attempt by attempt. test/chaos.test.ts and policy-sender.test.ts run them over real connections.

/** Answers with the scripted outcomes in turn (the last one from then on) and counts its attempts. */
class Scripted implements AttemptSender {
  attempts = 0;
  attempting = false;
  constructor(private readonly outcomes: AttemptOutcome[]) {}

  async attempt(_index: number, signal: AbortSignal): Promise<AttemptOutcome> {
    if (signal.aborted) return CANCELLED;
    return this.outcomes[Math.min(this.attempts++, this.outcomes.length - 1)]!;
  }
  expireIfOverdue(): void {}
  stopSending(): void {}
  cancel(): void {}
  async close(): Promise<void> {}
}

const answer = (status: number, retryAfterMs?: number): AttemptOutcome => ({
  error: undefined,
  status,
  passed: status < 400,
  bodyFailed: false,
  streamFailed: false,
  retryAfterMs,
});

function policy(options: PolicyOptions) {
  const plan = buildPolicyPlan({ backoff: 'fixed:1ms', ...options }, (problem) => {
    throw new Error(problem.message);
  });
  return { plan, rules: new RetryOn(plan), counters: { attempts: 0, retries: 0, failovers: 0, breakerRejections: 0 } as PolicyCounters };
}

const signal = () => new AbortController().signal;

describe('retry around any attempt sender', () => {
  test('retries what --retry-on names up to --retries times; a final answer ends at once', async () => {
    const { plan, rules, counters } = policy({ retries: 2 });
    const failing = new Scripted([answer(503)]);
    expect(await new Retrying(failing, plan, rules, counters).attempt(0, signal())).toMatchObject({ status: 503 });
    expect(failing.attempts).toBe(3);
    const notRetried = new Scripted([answer(404), answer(200)]);
    expect(await new Retrying(notRetried, plan, rules, counters).attempt(0, signal())).toMatchObject({ status: 404 });
    expect(notRetried.attempts).toBe(1);
    const recovers = new Scripted([errorOutcome('reset'), answer(200)]);
    expect(await new Retrying(recovers, plan, rules, counters).attempt(0, signal())).toMatchObject({ status: 200, passed: true });
    expect(counters.retries).toBe(3);
  });

  test("waits a failure's Retry-After instead of a shorter backoff", async () => {
    const { plan, rules, counters } = policy({ retries: 1 });
    const start = performance.now();
    await new Retrying(new Scripted([answer(503, 150), answer(200)]), plan, rules, counters).attempt(0, signal());
    expect(performance.now() - start).toBeGreaterThanOrEqual(145);
  });

  test('once sending stops, a retryable outcome is returned without a retry', async () => {
    const { plan, rules, counters } = policy({ retries: 3 });
    const inner = new Scripted([answer(503)]);
    const retrying = new Retrying(inner, plan, rules, counters);
    retrying.stopSending();
    expect(await retrying.attempt(0, signal())).toMatchObject({ status: 503 });
    expect(inner.attempts).toBe(1);
  });
});

describe('breaker around any attempt sender', () => {
  const breakerFor = (rules: RetryOn, threshold: number) =>
    circuitBreaker(
      handleWhenResult((outcome) => rules.failed(outcome as AttemptOutcome)),
      { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(threshold) },
    );

  test('opens after N consecutive failures, then refuses attempts as breaker; a cancelled attempt does not count as a success', async () => {
    const { rules, counters } = policy({});
    const inner = new Scripted([answer(503), CANCELLED, errorOutcome('timeout'), answer(200)]);
    const breaking = new Breaking(inner, breakerFor(rules, 2), counters);
    for (let i = 0; i < 3; i++) await breaking.attempt(i, signal());
    expect(await breaking.attempt(3, signal())).toBe(errorOutcome('breaker'));
    // A request already cancelled (a retry after its backoff, past the stop) is no rejection to count.
    const cancelled = new AbortController();
    cancelled.abort();
    expect(await breaking.attempt(4, cancelled.signal)).toBe(CANCELLED);
    expect(inner.attempts).toBe(3);
    expect(counters.breakerRejections).toBe(1);
  });

  test('an answer --retry-on does not retry is no failure to the breaker', async () => {
    const { rules, counters } = policy({});
    const inner = new Scripted([answer(404)]);
    const breaking = new Breaking(inner, breakerFor(rules, 1), counters);
    for (let i = 0; i < 3; i++) expect(await breaking.attempt(i, signal())).toMatchObject({ status: 404 });
    expect(counters.breakerRejections).toBe(0);
  });

  test('retry around the breaker: a refusal is not retried', async () => {
    const { plan, rules, counters } = policy({ retries: 5 });
    const inner = new Scripted([answer(503)]);
    const composed = new Retrying(new Breaking(inner, breakerFor(rules, 2), counters), plan, rules, counters);
    expect(await composed.attempt(0, signal())).toBe(errorOutcome('breaker'));
    expect({ attempts: inner.attempts, retries: counters.retries, rejections: counters.breakerRejections }).toEqual({
      attempts: 2,
      retries: 2,
      rejections: 1,
    });
  });
});

describe('failover over any attempt senders', () => {
  test('moves on after a failure, stops at a final answer, and the last outcome stands', async () => {
    const { rules, counters } = policy({});
    const first = new Scripted([errorOutcome('refused')]);
    const second = new Scripted([answer(404)]);
    const third = new Scripted([answer(200)]);
    expect(await new Failover([first, second, third], rules, counters).attempt(0, signal())).toMatchObject({ status: 404 });
    expect([first.attempts, second.attempts, third.attempts, counters.failovers]).toEqual([1, 1, 0, 1]);
    expect(await new Failover([first, new Scripted([answer(503)])], rules, counters).attempt(0, signal())).toMatchObject({ status: 503 });
  });

  test('once sending stops, no further provider is tried: the request is cancelled', async () => {
    const { rules, counters } = policy({});
    const second = new Scripted([answer(200)]);
    const failover = new Failover([new Scripted([errorOutcome('reset')]), second], rules, counters);
    failover.stopSending();
    expect(await failover.attempt(0, signal())).toBe(CANCELLED);
    expect(second.attempts).toBe(0);
  });
});
