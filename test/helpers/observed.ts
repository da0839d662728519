import type { ObservedCall } from '../../src/behaviour/call.js';

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
