import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ObservedCall } from '../../src/behaviour/call.js';
import { decodeHistogram } from '../../src/metrics/histogram.js';
import { BehaviourObserver } from '../../src/behaviour/observer.js';
import { failed, observed } from '../helpers/observed.js';

function observer(longestRetryAfterMs = 1000): BehaviourObserver {
  return new BehaviourObserver({ correlate: { mode: 'auto' }, longestRetryAfterMs });
}

/** min, p50 and max of an encoded histogram. */
function values(encoded: string | null): number[] {
  if (encoded === null) return [];
  const histogram = decodeHistogram(encoded);
  return [histogram.getValueAtPercentile(0), histogram.getValueAtPercentile(50), histogram.maxValue];
}

test('a request failed twice then answered: 3 attempts, 2 retries with their delays, a success folds at once', () => {
  const o = observer();
  o.record(failed('r1', 0, 503));
  o.record(failed('r1', 101, 503));
  o.record(observed('r1', 302));
  expect(o.openRequests).toBe(0);
  o.record(observed('r2', 400));
  const doc = o.document(1000);
  expect(doc.overall).toMatchObject({ calls: 4, requests: 2, attempts: { '1': 1, '3': 1 }, retries: 2 });
  expect(doc.providers.a).toMatchObject({ calls: 4, requests: 2, retries: 2 });
  // HDR histograms keep 3 significant digits: each value within 0.1%.
  const [min, p50, max] = values(doc.overall.retryDelay);
  expect(Math.abs(min! / 100_000 - 1)).toBeLessThan(0.001);
  expect(Math.abs(p50! / 100_000 - 1)).toBeLessThan(0.001);
  expect(Math.abs(max! / 200_000 - 1)).toBeLessThan(0.001);
  expect(doc.overall.series.calls.slice(0, 5)).toEqual([1, 1, 0, 1, 1]);
  expect(doc.overall.series.failed.slice(0, 5)).toEqual([1, 1, 0, 0, 0]);
  expect(doc.overall.series.calls).toHaveLength(10);
});

test('a call after the retry window is a new request; an overlapping attempt is a retry with delay 0 (a hedge)', () => {
  const o = observer(5000); // window: max(10 s, 3 × 5 s) = 15 s
  o.record(failed('w', 0, 503)); // ends at 1
  o.record(observed('w', 15_002)); // 15,001 ms after: a new request
  o.record(failed('h', 20_000, 503, { endedMs: 20_500 }));
  o.record(observed('h', 20_100)); // arrived before the first attempt ended
  const doc = o.document(21_000);
  expect(doc.retryWindowMs).toBe(15_000);
  expect(doc.overall.attempts).toEqual({ '1': 2, '2': 1 });
  expect(doc.overall.retries).toBe(1);
  expect(values(doc.overall.retryDelay)).toEqual([0, 0, 0]);
});

test('Retry-After: a retry short of it by more than 20 ms is a violation; one that waited it out to the timer is not', () => {
  const o = observer();
  const ra = { retryAfterMs: 1000 };
  o.record(failed('exact', 0, 429, ra)); // ends at 1
  o.record(observed('exact', 1000.8)); // waited 999.8 ms: a timer firing a fraction early
  o.record(failed('edge', 2000, 429, ra)); // ends at 2001
  o.record(observed('edge', 2981)); // 980 ms: at the tolerance
  o.record(failed('soon', 4000, 429, ra)); // ends at 4001
  o.record(observed('soon', 4979.5)); // 978.5 ms: 21.5 ms short
  const { retryAfter } = o.document(6000).providers.a!;
  expect(retryAfter).toMatchObject({ followed: 3, violations: 1, worstShortfallMs: 21.5, earliestMs: 978.5 });
  expect(retryAfter.samples.map((sample) => sample.delayMs)).toEqual([999.8, 980, 978.5]);
});

test('retry jitter: first retries within 10 ms are immediate (0), so an immediate loop reads lockstep whatever the scheduling', () => {
  const immediate = observer();
  [1.5, 4.2, 9.9, 2.3].forEach((delay, i) => {
    immediate.record(failed(`i${i}`, i * 100, 503)); // ends at i * 100 + 1
    immediate.record(observed(`i${i}`, i * 100 + 1 + delay));
  });
  expect(immediate.document(1000).providers.a!.firstRetryDelay).toEqual({ count: 4, sumMs: 0, sumSquaresMs: 0 });
  const spread = observer();
  [100, 300].forEach((delay, i) => {
    spread.record(failed(`s${i}`, i * 1000, 503));
    spread.record(observed(`s${i}`, i * 1000 + 1 + delay));
  });
  expect(spread.document(3000).providers.a!.firstRetryDelay).toEqual({ count: 2, sumMs: 400, sumSquaresMs: 100_000 });
});

test('held calls: a wait the service gave up on is timed; one still open at the end or cut by the proxy was never given up on', () => {
  const o = observer();
  const held = { status: 0, fault: 'timeout' };
  o.record(observed('gave-up', 0, { ...held, endedMs: 200, clientGone: true }));
  o.record(observed('open', 10, { ...held, endedMs: 5000, openAtEnd: true }));
  o.record(observed('cut', 20, { ...held, endedMs: 3000 })); // a `down` window closed the listener and its connections
  const { timeouts, abandoned } = o.document(5000).providers.a!;
  expect(timeouts).toMatchObject({ held: 3, never: 2 });
  expect(abandoned).toBe(1);
  expect(values(timeouts.waited).map((us) => Math.round(us / 1000))).toEqual([200, 200, 200]);
});

test('a held call caught by the end sooner than the service gives up on others is no evidence of "never"', () => {
  const held = { status: 0, fault: 'timeout' };
  const timed = observer();
  timed.record(observed('gave-up', 0, { ...held, endedMs: 200, clientGone: true }));
  timed.record(observed('late', 4950, { ...held, endedMs: 5000, openAtEnd: true })); // 50 ms held when the run ended
  timed.record(observed('giving-up', 4790, { ...held, endedMs: 5000, openAtEnd: true })); // 210 ms: its give-up may be on its way
  expect(timed.document(5000).providers.a!.timeouts).toMatchObject({ held: 3, never: 0 });
  timed.record(observed('stuck', 4550, { ...held, endedMs: 5000, openAtEnd: true })); // 450 ms: over twice the 200 ms it gave up after
  expect(timed.document(5000).providers.a!.timeouts).toMatchObject({ held: 4, never: 1 });
  const untimed = observer(); // gave up on none: held for more than 100 ms is never
  untimed.record(observed('short', 4950, { ...held, endedMs: 5000, openAtEnd: true }));
  untimed.record(observed('long', 3000, { ...held, endedMs: 5000, openAtEnd: true }));
  expect(untimed.document(5000).providers.a!.timeouts).toMatchObject({ held: 2, never: 1 });
});

test('backoff growth and Retry-After are judged between attempts at one provider; a move to another is a failover', () => {
  const o = observer();
  o.record(failed('f', 0, 503)); // ends at 1
  o.record(failed('f', 101, 503, { retryAfterMs: 1000 })); // +100 ms at a; its Retry-After is not a's to judge once the service moves to b
  o.record(failed('f', 302, 503, { provider: 'b' })); // +200 ms, failover to b: no growth pair, no Retry-After judged
  o.record(failed('f', 353, 503, { provider: 'b' })); // +50 ms at b: its first retry there, no growth pair either
  o.record(observed('f', 454, { provider: 'b' })); // +100 ms at b: growth 100 / 50 = 2
  const doc = o.document(1000);
  expect(doc.overall).toMatchObject({ retries: 4, failover: { count: 1 } });
  expect(doc.providers.a!.retryAfter).toMatchObject({ followed: 0, violations: 0 });
  expect(doc.providers.b!.retryAfter).toMatchObject({ followed: 0, violations: 0 });
  expect(values(doc.overall.backoffGrowth)).toEqual([2000, 2000, 2000]);
});

test('Retry-After binds its provider across attempts elsewhere; a 400 retried elsewhere counts where the 400 came from', () => {
  const o = observer();
  o.record(failed('r', 0, 429, { retryAfterMs: 1000 })); // a asks for 1 s, ends at 1
  o.record(failed('r', 2, 503, { provider: 'b' })); // at once to b: a failover, not judged on a's Retry-After
  o.record(observed('r', 7)); // back at a 6 ms after a's answer: a violation at a
  o.record(failed('n', 100, 400)); // a says 400
  o.record(observed('n', 110, { provider: 'b' })); // retried at b all the same
  const doc = o.document(1000);
  expect(doc.providers.a!.retryAfter).toMatchObject({ followed: 1, violations: 1, earliestMs: 6 });
  expect(doc.providers.b!.retryAfter).toMatchObject({ followed: 0, violations: 0 });
  expect(doc.providers.a!.nonRetryable).toMatchObject({ answered: 1, retries: 1, byStatus: { '400': 1 } });
  expect(doc.providers.b!.nonRetryable).toMatchObject({ answered: 0, retries: 0 });
  // Retry delays are backoffs at one provider: every retry here moved (a to b, b to a, a to b), a failover timed apart.
  expect(doc.overall).toMatchObject({ retries: 3, failover: { count: 3 }, retryDelay: null });
});

test('requests left open when the run ends are folded by document(); the sweep folds them once the window passed', () => {
  const o = observer();
  o.record(failed('gone', 0, 503));
  o.record(failed('also', 5, 400));
  expect(o.openRequests).toBe(2);
  o.record(observed('other', 10_006)); // 10 s after 'gone' ended at 1 ms, not yet after 'also' ended at 6 ms
  expect(o.openRequests).toBe(1);
  const doc = o.document(11_000);
  expect(o.openRequests).toBe(0);
  expect(doc.overall.attempts).toEqual({ '1': 3 });
  expect(doc.overall.nonRetryable).toEqual({ answered: 1, retries: 0, byStatus: {} });
});

test('coverage, connections, abandoned calls and failed bins are counted per call', () => {
  const o = new BehaviourObserver({ correlate: { mode: 'header', header: 'X-Corr' }, longestRetryAfterMs: 0 });
  o.record(observed('k1', 0, { keySource: 'header', runRequest: true }));
  o.record(observed('k2', 10, { keySource: 'body', reused: true }));
  o.record(observed('k3', 150, { status: 0, fault: 'latency:2s', clientGone: true }));
  o.record(observed('k4', 160, { status: 408 }));
  o.record(observed('k5', 170, { status: 404 }));
  const doc = o.document(300);
  expect(doc.correlate).toBe('header:X-Corr');
  expect(doc.binMs).toBe(100);
  expect(doc.correlation).toEqual({ calls: 5, keyedBy: { header: 1, body: 1, 'x-request-id': 3 }, matched: 1 });
  expect(doc.overall).toMatchObject({ calls: 5, reusedConnections: 1, abandoned: 1, timeouts: { held: 0, waited: null, never: 0 } });
  // No answer and 408 failed; 404 is an answer (a non-retryable one), not a failure of the dependency.
  expect(doc.overall.series).toEqual({ calls: [2, 3, 0], failed: [0, 2, 0], first: [2, 3, 0] });
});

test('without series (resil proxy, which runs as long as it is left) the counts are kept and no bin is', () => {
  const o = new BehaviourObserver({ correlate: { mode: 'auto' }, longestRetryAfterMs: 1000, series: false });
  o.record(failed('r', 0, 503));
  o.record(observed('r', 3_600_000)); // an hour later: a new request, and no 36,000 bins to get there
  const doc = o.document(3_600_100);
  expect(doc.overall).toMatchObject({ calls: 2, requests: 2, series: { calls: [], failed: [], first: [] } });
});

test('reset() forgets every call but keeps the providers and their windows', () => {
  const o = observer();
  o.addProvider('a', [{ source: 'a:status:503@1s-2s', startMs: 1000, endMs: 2000, down: false }]);
  o.record(failed('r', 0, 503));
  o.reset();
  o.record(observed('s', 50));
  const doc = o.document(3000);
  expect(doc.overall).toMatchObject({ calls: 1, requests: 1, attempts: { '1': 1 } });
  expect(doc.providers.a!.windows.map((w) => w.window)).toEqual(['a:status:503@1s-2s']);
});

/** A forced garbage collection, for heap figures that do not depend on when V8 last collected. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * 1,000,000 calls at 10,000 calls/s (100 s of run time): 95% of requests answered at once, 4% failed
 * once (503, half with Retry-After: 1) and retried 50-150 ms later, 0.5% failed three times with
 * doubling delays, 0.5% failed and never retried (held for the 10 s retry window). Yields the calls
 * in arrival order, `chunk` at a time. scripts/bench/observer.mjs times the same load.
 */
function* syntheticLoad(total: number, chunk: number): Generator<ObservedCall[]> {
  const slotMs = 0.1;
  const pending = new Map<number, ObservedCall[]>();
  const later = (slot: number, call: ObservedCall) => {
    const list = pending.get(slot);
    if (list) list.push(call);
    else pending.set(slot, [call]);
  };
  let state = 7;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  let made = 0;
  for (let slot = 0; made < total; ) {
    const calls: ObservedCall[] = [];
    while (calls.length < chunk) {
      const t = slot * slotMs;
      for (const call of pending.get(slot) ?? []) calls.push(call);
      pending.delete(slot);
      const key = `run-${slot}`;
      const r = random();
      if (r < 0.95) calls.push(observed(key, t));
      else if (r < 0.99) {
        calls.push(failed(key, t, 503, { retryAfterMs: random() < 0.5 ? 1000 : undefined }));
        const delay = 50 + random() * 100;
        later(slot + Math.round((1 + delay) / slotMs), observed(key, t + 1 + delay));
      } else if (r < 0.995) {
        calls.push(failed(key, t, 503));
        let at = t;
        for (const [i, delay] of [100, 200, 400].entries()) {
          at += 1 + delay;
          later(slot + Math.round((at - t) / slotMs), i === 2 ? observed(key, at) : failed(key, at, 503));
        }
      } else calls.push(failed(key, t, 503));
      slot++;
    }
    made += calls.length;
    yield calls;
  }
}

test('1,000,000 calls: requests held open stay bounded by the retry window and the heap stays flat', () => {
  const gc = collectGarbage();
  const o = observer();
  let maxOpen = 0;
  const heap: number[] = [];
  let recordedMs = 0;
  gc();
  for (const calls of syntheticLoad(1_000_000, 100_000)) {
    const start = performance.now();
    for (const call of calls) o.record(call);
    recordedMs += performance.now() - start;
    maxOpen = Math.max(maxOpen, o.openRequests);
    gc();
    heap.push(process.memoryUsage().heapUsed);
  }
  const doc = o.document(100_000);
  expect(doc.correlation.calls).toBeGreaterThanOrEqual(1_000_000);
  expect(doc.overall.retries).toBeGreaterThan(50_000);
  expect(doc.overall.attempts['4']).toBeGreaterThan(4000);
  // Open: the never-retried 0.5% (50 requests/s) for the 10 s window, plus requests between attempts.
  expect(maxOpen).toBeGreaterThan(100);
  expect(maxOpen).toBeLessThan(1000);
  // From the first 100,000 calls to 1,000,000, the heap grows by less than 1 MB (measured: ~0.02 MB).
  expect(heap.at(-1)! - heap[0]!).toBeLessThan(1024 * 1024);
  // record() itself: well under the 3.8 µs (10% of a proxied call) observation may cost; 0.4-0.5 µs measured.
  expect(recordedMs / doc.correlation.calls).toBeLessThan(0.0038 * 3);
});
