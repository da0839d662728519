import type { ObservedCall } from '../../src/behaviour/call.js';
import { BehaviourObserver } from '../../src/behaviour/observer.js';
import type { BehaviourDocument } from '../../src/model/behaviour.js';

/**
 * A synthetic dependency call as a proxy reports it to the BehaviourObserver: by default a GET to
 * provider 'a', passed through and answered 200 after 1 ms at t = `arrivedMs`, keyed by X-Request-Id.
 */
export function observed(key: string, arrivedMs: number, overrides: Partial<ObservedCall> = {}): ObservedCall {
  return {
    provider: 'a',
    method: 'GET',
    key,
    keySource: 'x-request-id',
    runRequest: false,
    idempotencyKey: false,
    arrivedMs,
    endedMs: arrivedMs + 1,
    status: 200,
    fault: undefined,
    retryAfterMs: undefined,
    clientGone: false,
    openAtEnd: false,
    reused: false,
    ...overrides,
  };
}

/** A failed attempt: the proxy injected `status:CODE` (with Retry-After for 429 and 503 when given). */
export function failed(key: string, arrivedMs: number, status: number, overrides: Partial<ObservedCall> = {}): ObservedCall {
  return observed(key, arrivedMs, { status, fault: `status:${status}`, ...overrides });
}

/** One call every `everyMs` from `fromMs` until before `toMs`, each its own request (key `${prefix}${t}`). */
export function steady(
  prefix: string,
  fromMs: number,
  toMs: number,
  everyMs: number,
  overrides: (t: number) => Partial<ObservedCall> = () => ({}),
): ObservedCall[] {
  const calls: ObservedCall[] = [];
  for (let t = fromMs; t < toMs; t += everyMs) calls.push(observed(`${prefix}${t}`, t, overrides(t)));
  return calls;
}

/** The fault window of breakerCalls(): provider 'a' fails every call from 5 s to 10 s. */
export const BREAKER_WINDOW = { source: 'a:status:503@5s-10s', startMs: 5000, endMs: 10_000, down: false };

/**
 * A service with a circuit breaker calling provider `provider` 100 times a second for 15 s, while
 * BREAKER_WINDOW fails every call: it keeps calling for 1 s (breaker opens at 6 s), then probes every
 * 500 ms (6.25 s, 6.75 s... 10.25 s: 2/s), and calls at the full rate again from 10.3 s (closed).
 */
export function breakerCalls(provider = 'a'): ObservedCall[] {
  const inWindow = (t: number) => t >= 5000 && t < 10_000;
  const status = (t: number): Partial<ObservedCall> =>
    inWindow(t) ? { provider, status: 503, fault: 'status:503' } : { provider, status: 200 };
  return [
    ...steady('before-', 0, 6000, 10, status),
    ...steady('probe-', 6250, 10_300, 500, status),
    ...steady('after-', 10_300, 15_000, 10, status),
  ];
}

/**
 * A chaos run's behaviour section in which every dependency-behaviour metric has a finite value:
 * provider 'payments' with a breaker (breakerCalls) and, after it, a request retried with growing
 * delays, retries after Retry-After and after a 400 (a POST without Idempotency-Key), a held call
 * given up on after 200 ms and a failover to provider 'backup'.
 */
export function sampleBehaviour(): BehaviourDocument {
  const observer = new BehaviourObserver({ correlate: { mode: 'auto' }, longestRetryAfterMs: 1000 });
  observer.addProvider('payments', [{ ...BREAKER_WINDOW, source: 'payments:status:503@5s-10s' }]);
  observer.addProvider('backup', []);
  const p = { provider: 'payments' };
  const calls = [
    ...breakerCalls('payments'),
    failed('grow', 15_000, 503, p),
    failed('grow', 15_101, 503, p),
    observed('grow', 15_302, p),
    failed('ra', 15_400, 503, { ...p, retryAfterMs: 1000 }),
    observed('ra', 15_501, p),
    failed('bad', 15_600, 400, { ...p, method: 'POST' }),
    observed('bad', 15_611, { ...p, method: 'POST' }),
    observed('held', 15_700, { ...p, endedMs: 15_900, status: 0, fault: 'timeout', clientGone: true }),
    failed('move', 16_000, 503, p),
    observed('move', 16_051, { provider: 'backup' }),
  ];
  for (const call of calls) observer.record(call);
  return observer.document(17_000);
}
