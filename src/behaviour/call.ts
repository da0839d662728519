/**
 * One dependency call as a chaos proxy saw it, handed to the BehaviourObserver (observer.ts) when the
 * call is over. Times are milliseconds on the observer's run clock (performance.now() minus the
 * moment the run started: the same clock the fault windows use).
 */
export interface ObservedCall {
  /** The proxy's name (a campaign's provider, 'dependency' or 'failover-N' in `resil chaos`). */
  provider: string;
  method: string;
  /** Which attempts belong to one logical request: see correlationKey() in key.ts. */
  key: string;
  keySource: KeySource;
  /** The key is one of this run's request ids (the service propagated resil's X-Request-Id or traceparent). */
  runRequest: boolean;
  /** The call carried an Idempotency-Key header (a POST or PATCH retried without one is unsafe). */
  idempotencyKey: boolean;
  /** When the request's head arrived (ms). */
  arrivedMs: number;
  /** When the exchange ended: the answer's last byte went out, the connection was cut, or the client left (ms). */
  endedMs: number;
  /** The status the proxy sent (injected or passed on); 0 when no status line went out (reset, close, held) or the answer was cut short. */
  status: number;
  /** The fault injected ('status:503', 'timeout', ...), or undefined for a call passed through untouched. */
  fault: string | undefined;
  /** The Retry-After the proxy sent with the answer (ms), when it sent one. */
  retryAfterMs: number | undefined;
  /** The client closed the connection before the proxy had finished answering (it gave up waiting). */
  clientGone: boolean;
  /** The call was still open when the run ended (a held call the client never gave up on). */
  openAtEnd: boolean;
  /** The call came on a connection that had carried an earlier call (keep-alive reuse). */
  reused: boolean;
}

/** Where a call's correlation key came from. */
export type KeySource = 'idempotency-key' | 'x-request-id' | 'traceparent' | 'header' | 'body';

/**
 * How attempts are correlated (`--correlate`): `auto` takes Idempotency-Key, X-Request-Id, the trace
 * id of a W3C traceparent, else method + path + a hash of the body; `header` one named header (calls
 * without it fall back to the body); `body` always method + path + body hash; `off` observes nothing.
 */
export type Correlation = { mode: 'auto' } | { mode: 'header'; header: string } | { mode: 'body' } | { mode: 'off' };
