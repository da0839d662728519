import type { ObservedCall } from '../../src/behaviour/call.js';
import { measureBehaviour, sentence, why } from '../../src/behaviour/measure.js';
import { BehaviourObserver } from '../../src/behaviour/observer.js';
import type { BehaviourDocument } from '../../src/model/behaviour.js';
import { BREAKER_WINDOW, breakerCalls, failed, observed } from '../helpers/observed.js';

/** The behaviour section of these calls, as one observer folds them (the run ended at `endMs`). */
function documentOf(calls: readonly ObservedCall[], endMs = 20_000, setUp?: (o: BehaviourObserver) => void): BehaviourDocument {
  const observer = new BehaviourObserver({ correlate: { mode: 'auto' }, longestRetryAfterMs: 1000 });
  setUp?.(observer);
  for (const call of calls) observer.record(call);
  return observer.document(endMs);
}

/** HDR histograms keep 3 significant digits: a duration read from one is within 0.1%. */
function expectNear(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(expected * 0.001);
}

describe('an immediate-retry loop (a storm): every caller retries a 429 4 ms later, in lockstep', () => {
  const calls = Array.from({ length: 10 }, (_, i) => [
    failed(`r${i}`, i * 100, 429, { retryAfterMs: 1000 }),
    observed(`r${i}`, i * 100 + 5),
  ]).flat();
  const doc = documentOf(calls);

  test('jitter 0, every retry a Retry-After violation, 2 attempts each', () => {
    expect(measureBehaviour('retry_jitter', doc)).toBe(0);
    expect(measureBehaviour('retry_after_violations', doc)).toBe(10);
    expect(measureBehaviour('retries', doc)).toBe(10);
    expect(measureBehaviour('attempts_max', doc)).toBe(2);
    expect(measureBehaviour('attempts_mean', doc)).toBe(2);
    expectNear(measureBehaviour('retry_delay_min', doc), 4);
    expectNear(measureBehaviour('retry_delay_p50', doc), 4);
    expect(doc.overall.retryAfter).toMatchObject({ sent: 10, followed: 10, violations: 10, worstShortfallMs: 996, earliestMs: 4 });
    expect(doc.overall.retryAfter.samples[0]).toEqual({ atMs: 5, delayMs: 4, retryAfterMs: 1000 });
  });

  test('the failed verdict in plain words', () => {
    expect(sentence('retry_after_violations', doc)).toBe(
      '10 retries to the dependencies came sooner than Retry-After: 1.00s; the earliest after 4.00ms, the worst 996.0ms short',
    );
    expect(sentence('retry_jitter', doc)).toBe(
      'first retries to the dependencies were spread by a coefficient of variation of 0.00 over 10 requests (0 is every caller retrying in lockstep)',
    );
  });

  test('nothing to say about growth (no third attempt), breakers (no window) or timeouts (nothing held): each says which fault would', () => {
    for (const name of ['backoff_growth', 'breaker_open_after', 'dependency_timeout', 'failover_delay', 'non_retryable_retries'] as const) {
      expect([name, measureBehaviour(name, doc)]).toEqual([name, null]);
    }
    expect(why('backoff_growth', doc)).toMatch(/retried twice.*inject status:503/);
    expect(why('breaker_open_after', doc)).toBe(
      'no fault window failed every call to the dependencies: give a window with --failure-rate 1 and a fault such as status:503, ' +
        'with calls in the second before it, and read breakers on it',
    );
    expect(why('dependency_timeout', doc)).toMatch(/inject timeout$/);
    expect(why('non_retryable_retries', doc)).toMatch(/inject status:400/);
    expect(why('retry_after_violations', doc)).toBeUndefined();
  });
});

describe('exponential backoff, 100, 200 and 400 ms', () => {
  // Each attempt lasts 1 ms; request e0's first retry waits 100 ms, e1's 300 ms (first-retry delays 100 and 300).
  const calls = [
    failed('e0', 0, 503),
    failed('e0', 101, 503),
    failed('e0', 302, 503),
    observed('e0', 703),
    failed('e1', 1000, 503),
    observed('e1', 1301),
  ];
  const doc = documentOf(calls);

  test('growth 2.0, delays within 0.1%, jitter the spread of first retries', () => {
    expect(measureBehaviour('backoff_growth', doc)).toBe(2);
    expectNear(measureBehaviour('retry_delay_min', doc), 100);
    expectNear(measureBehaviour('retry_delay_p50', doc), 200);
    // First retries 100 and 300 ms: mean 200, standard deviation 100.
    expect(measureBehaviour('retry_jitter', doc)).toBeCloseTo(0.5, 12);
    expect(measureBehaviour('attempts_max', doc)).toBe(4);
    expect(measureBehaviour('attempts_mean', doc)).toBe(3);
    expect(doc.overall.attempts).toEqual({ '2': 1, '4': 1 });
    expect(measureBehaviour('retry_after_violations', doc)).toBeNull();
    expect(why('retry_after_violations', doc)).toBe(
      'no answer from the dependencies carried Retry-After: inject status:429 or status:503 so the proxy sends one',
    );
  });

  test('a Retry-After waited for is followed, not violated', () => {
    const honoured = documentOf([failed('h', 0, 503, { retryAfterMs: 1000 }), observed('h', 1001)]);
    expect(honoured.overall.retryAfter).toMatchObject({ sent: 1, followed: 1, violations: 0, worstShortfallMs: null, earliestMs: null });
    expect(measureBehaviour('retry_after_violations', honoured)).toBe(0);
  });
});

describe('failover from provider a to provider b 50 ms after a failed attempt', () => {
  const calls = [failed('f', 0, 503), observed('f', 51, { provider: 'b' }), observed('g', 100)];
  const doc = documentOf(calls);

  test('the delay is the failover, attributed to b and over all; a had none', () => {
    expectNear(measureBehaviour('failover_delay', doc), 50);
    expectNear(measureBehaviour('failover_delay_p99', doc), 50);
    expectNear(measureBehaviour('failover_delay', doc, 'b'), 50);
    expect(measureBehaviour('failover_delay', doc, 'a')).toBeNull();
    expect(why('failover_delay', doc, 'a')).toMatch(/^no request moved to a from another provider/);
    expect(measureBehaviour('retries', doc, 'b')).toBe(1);
    expect(measureBehaviour('retries', doc, 'a')).toBe(0);
    expect(doc.providers.a!.attempts).toEqual({ '1': 2 });
    expect(doc.providers.b!.attempts).toEqual({ '1': 1 });
    expect(doc.overall.attempts).toEqual({ '1': 1, '2': 1 });
    expect(sentence('failover_delay', doc, 'b')).toMatch(/^moving to b after a failed attempt took 50\.\d+ms \(median of 1 failover\)$/);
  });

  test('a service with two providers that never moved a failed request says it did not fail over', () => {
    const stayed = documentOf([failed('s', 0, 503), observed('s', 51), observed('t', 60, { provider: 'b' })]);
    expect(measureBehaviour('failover_delay', stayed)).toBeNull();
    expect(why('failover_delay', stayed)).toBe(
      '1 call failed, and no request moved to another provider after one: the service did not fail over',
    );
  });

  test('a provider that took no part says so', () => {
    expect(measureBehaviour('retries', doc, 'c')).toBeNull();
    expect(why('retries', doc, 'c')).toBe("no provider named 'c' took part: it has a, b");
  });
});

test('a POST retried after a 400 without an Idempotency-Key is a non-retryable and an unsafe retry', () => {
  const doc = documentOf([
    failed('p', 0, 400, { method: 'POST' }),
    observed('p', 20, { method: 'POST' }),
    failed('q', 50, 404, { method: 'POST', idempotencyKey: true }),
    observed('q', 70, { method: 'POST', idempotencyKey: true }),
    failed('s', 80, 422),
  ]);
  expect(measureBehaviour('non_retryable_retries', doc)).toBe(2);
  expect(measureBehaviour('unsafe_retries', doc)).toBe(1);
  expect(doc.overall.nonRetryable).toEqual({ answered: 3, retries: 2, byStatus: { '400': 1, '404': 1 } });
  expect(sentence('non_retryable_retries', doc)).toBe(
    '2 retries to the dependencies followed a status that should not be retried (400×1, 404×1); 1 retry of POST or PATCH had no Idempotency-Key',
  );
});

describe('held calls (timeout)', () => {
  const held = (key: string, arrivedMs: number, endedMs: number, more: Partial<ObservedCall>) =>
    observed(key, arrivedMs, { endedMs, status: 0, fault: 'timeout', ...more });

  test('a service that gives up after 200 ms: its effective timeout', () => {
    const doc = documentOf([held('t1', 1000, 1200, { clientGone: true }), held('t2', 2000, 2200, { clientGone: true })]);
    expectNear(measureBehaviour('dependency_timeout', doc), 200);
    expectNear(measureBehaviour('dependency_timeout_max', doc), 200);
    expect(doc.overall.timeouts.held).toBe(2);
    expect(doc.overall.abandoned).toBe(2);
  });

  test('a service that never gives up: never', () => {
    const doc = documentOf([held('t1', 1000, 20_000, { openAtEnd: true })]);
    expect(measureBehaviour('dependency_timeout', doc)).toBe(Number.POSITIVE_INFINITY);
    expect(measureBehaviour('dependency_timeout_max', doc)).toBe(Number.POSITIVE_INFINITY);
    expect(sentence('dependency_timeout', doc)).toBe(
      'the service waited on every call the proxy held at the dependencies until the run ended or the proxy cut it: it has no timeout on this dependency',
    );
  });

  test('one given up on, one never: the median is a duration, the max never', () => {
    const doc = documentOf([held('t1', 1000, 1200, { clientGone: true }), held('t2', 2000, 20_000, { openAtEnd: true })]);
    expectNear(measureBehaviour('dependency_timeout', doc), 200);
    expect(measureBehaviour('dependency_timeout_max', doc)).toBe(Number.POSITIVE_INFINITY);
  });
});

test('a provider down in a later window (a campaign phase) still has its breaker judged on the window that failed every call', () => {
  const down = { source: 'phase 2 (12s for 2s)', startMs: 12_000, endMs: 14_000, down: true };
  const doc = documentOf(breakerCalls(), 15_000, (o) => o.addProvider('a', [BREAKER_WINDOW, down]));
  expect(doc.providers.a!.windows.map((w) => [w.down, w.breakerOpenAfterMs])).toEqual([
    [false, 1000],
    [true, null],
  ]);
  expect(measureBehaviour('breaker_open_after', doc)).toBe(1000);
});

describe('a window failing every call: the breaker opens, probes and closes', () => {
  const doc = documentOf(breakerCalls(), 15_000, (o) => o.addProvider('a', [BREAKER_WINDOW]));

  test('figures from 100 ms bins and 500 ms spans: each is the start of the first span that shows it', () => {
    const [window] = doc.providers.a!.windows;
    // 100/s before; inside: 100 calls in the first second, then 8 probes (6.25 s ... 9.75 s) over 4 s.
    expect(window).toEqual({
      window: BREAKER_WINDOW.source,
      startMs: 5000,
      endMs: 10_000,
      down: false,
      failedEveryCall: true,
      rateBefore: 100,
      rateInside: 21.6,
      firstRateBefore: 100,
      // Calls stop at 6.0 s: the span 6.0-6.5 s is the first quiet one, 1 s into the window.
      breakerOpenAfterMs: 1000,
      breakerProbesPerSecond: 2,
      // Back at 10.3 s: the span 10.3-10.8 s is the first at 90% of the rate before, 0.3 s after the window.
      breakerCloseAfterMs: 300,
    });
    expect(measureBehaviour('breaker_open_after', doc)).toBe(1000);
    expect(measureBehaviour('breaker_probes', doc)).toBe(2);
    expect(measureBehaviour('breaker_close_after', doc)).toBe(300);
    expect(measureBehaviour('retry_storm', doc)).toBeCloseTo(0.216, 12);
    expect(measureBehaviour('breaker_open_after', doc, 'a')).toBe(1000);
    expect(doc.overall.windows).toEqual(doc.providers.a!.windows);
  });

  test('retries before the window do not raise the bar: breakers are judged on first attempts', () => {
    // From 3 s to 5 s every request fails once and is retried 5 ms later: 200 calls/s, still 100 new requests/s.
    const calls = breakerCalls().flatMap((call) => {
      const t = call.arrivedMs;
      if (!call.key.startsWith('before-') || t < 3000 || t >= 5000) return [call];
      return [failed(call.key, t, 503), observed(call.key, t + 5)];
    });
    const judged = documentOf(calls, 15_000, (o) => o.addProvider('a', [BREAKER_WINDOW]));
    expect(judged.providers.a!.windows[0]).toMatchObject({
      rateBefore: 140,
      firstRateBefore: 100,
      breakerOpenAfterMs: 1000,
      // Back at 10.3 s to 100 new requests/s: 90% of the 100/s before, though under 90% of the 140 calls/s.
      breakerCloseAfterMs: 300,
    });
  });

  test('a window shorter than a span, or a run ending before a span after it, is not judged rather than never', () => {
    const short = { source: 'a:status:503@5s-5.4s', startMs: 5000, endMs: 5400, down: false };
    const shortDoc = documentOf(steadyFailing(), 15_000, (o) => o.addProvider('a', [short]));
    expect(shortDoc.providers.a!.windows[0]).toMatchObject({ failedEveryCall: true, breakerOpenAfterMs: null });
    expect(measureBehaviour('breaker_open_after', shortDoc)).toBeNull();
    // The run ends 300 ms after the window: a breaker that opened has had no span to close in.
    const ended = documentOf(
      breakerCalls().filter((call) => call.arrivedMs < 10_300),
      10_300,
      (o) => o.addProvider('a', [BREAKER_WINDOW]),
    );
    expect(ended.providers.a!.windows[0]).toMatchObject({ breakerOpenAfterMs: 1000, breakerCloseAfterMs: null });
  });

  test('a service without a breaker calls on: never opened, no probes or closing to time', () => {
    const noBreaker = steadyFailing();
    const judged = documentOf(noBreaker, 15_000, (o) => o.addProvider('a', [BREAKER_WINDOW]));
    expect(measureBehaviour('breaker_open_after', judged)).toBe(Number.POSITIVE_INFINITY);
    expect(measureBehaviour('breaker_probes', judged)).toBeNull();
    expect(measureBehaviour('breaker_close_after', judged)).toBeNull();
    expect(why('breaker_probes', judged)).toMatch(/never fell below 10% of the earlier rate: no breaker opened/);
    expect(sentence('breaker_open_after', judged)).toBe(
      `in window ${BREAKER_WINDOW.source} every call failed and calls kept coming at 100/s (100/s before it): no breaker opened`,
    );
    expect(measureBehaviour('retry_storm', judged)).toBe(1);
  });

  test('down windows are not judged: refused connections never reach the proxy', () => {
    const down = documentOf(breakerCalls(), 15_000, (o) => o.addProvider('a', [{ ...BREAKER_WINDOW, down: true }]));
    expect(down.providers.a!.windows[0]).toMatchObject({ down: true, breakerOpenAfterMs: null, breakerCloseAfterMs: null });
    expect(measureBehaviour('breaker_open_after', down)).toBeNull();
    expect(why('breaker_open_after', down)).toMatch(/only down windows: refused connections never reach the proxy/);
    expect(measureBehaviour('retry_storm', down)).toBeNull();
  });

  test('a window with less than a second of calls before it has no breaker figures', () => {
    const early = { source: 'a:status:503@0.5s-3s', startMs: 500, endMs: 3000, down: false };
    const judged = documentOf(steadyFailing(), 15_000, (o) => o.addProvider('a', [early]));
    expect(judged.providers.a!.windows[0]).toMatchObject({ failedEveryCall: true, rateBefore: 100, breakerOpenAfterMs: null });
    expect(why('breaker_open_after', judged)).toMatch(/no calls in the second before them/);
  });
});

/** 100 calls a second for 15 s to provider a, failing inside BREAKER_WINDOW and from 0.5 s to 3 s. */
function steadyFailing(): ObservedCall[] {
  const calls: ObservedCall[] = [];
  for (let t = 0; t < 15_000; t += 10) {
    const failing = (t >= 5000 && t < 10_000) || (t >= 500 && t < 3000);
    calls.push(failing ? failed(`n${t}`, t, 503) : observed(`n${t}`, t));
  }
  return calls;
}
