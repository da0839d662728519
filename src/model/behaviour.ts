/**
 * The `behaviour` section of a chaos result (resil/result@1): the service's dependency calls as the
 * chaos proxies saw them, folded per provider into counters, HDR histograms and a calls-per-bin
 * series, so that shards merge exactly (histograms add, counters add, series add bin by bin) and the
 * threshold metrics (retries, retry_delay_p50, breaker_open_after...) are measured from it alone.
 * Types only; built by src/behaviour/observer.ts, measured by src/behaviour/measure.ts.
 */

/** Encoded HDR histogram (compressed base64, as `histograms` in the result), or null when empty. */
export type EncodedHistogram = string | null;

export interface BehaviourDocument {
  /** How attempts of one request were told apart: 'auto', 'header:NAME' or 'body'. */
  correlate: string;
  /** A call more than this long after its request's previous attempt ended starts a new request (ms). */
  retryWindowMs: number;
  /** Width of the bins of each provider's `series` (ms); bin 0 starts when the run's clock started. */
  binMs: number;
  correlation: CorrelationCoverage;
  /** Over every provider: a request's attempts anywhere; failover is seen only here and per destination provider. */
  overall: ProviderBehaviour;
  providers: Record<string, ProviderBehaviour>;
}

export interface CorrelationCoverage {
  calls: number;
  /** Calls by where their key came from: 'idempotency-key', 'x-request-id', 'traceparent', 'header', 'body'. */
  keyedBy: Record<string, number>;
  /** Calls whose key was one of this run's request ids: each maps to exactly one request resil sent. */
  matched: number;
}

/** What one provider saw (or, for `overall`, all of them together). */
export interface ProviderBehaviour {
  calls: number;
  /** Calls on a connection that had carried an earlier call. */
  reusedConnections: number;
  /** Logical requests whose attempts reached this provider. */
  requests: number;
  /** Requests by their number of attempts (at this provider; overall: anywhere): {"1": 950, "3": 12}. */
  attempts: Record<string, number>;
  /** Calls that were not the first attempt of their request. */
  retries: number;
  /** Each retry's delay: from the previous attempt's end to its arrival (µs). */
  retryDelay: EncodedHistogram;
  /** First retries only (attempt 2), for retry_jitter: count, sum and sum of squares of their delays (ms; under 10 ms counted as 0). */
  firstRetryDelay: { count: number; sumMs: number; sumSquaresMs: number };
  /** Ratio of each retry's delay to the previous retry's delay in the same request, × 1000. */
  backoffGrowth: EncodedHistogram;
  retryAfter: RetryAfterFacts;
  /** Calls answered with a 400, 401, 403, 404, 409, 422 or 501; retries after one of them, by that status. */
  nonRetryable: { answered: number; retries: number; byStatus: Record<string, number> };
  /** Retries of POST or PATCH calls that carried no Idempotency-Key. */
  unsafeRetries: number;
  /** Calls the proxy held (`timeout`): how long the client waited before giving up (µs). */
  timeouts: {
    held: number;
    waited: EncodedHistogram;
    /**
     * Held calls the service never gave up on: still waited on when the run ended, or until the proxy
     * cut them itself (a `down` window), after more than twice the longest wait it gave up on (100 ms when none).
     */
    never: number;
  };
  /** Calls the client left before the proxy finished answering (held, slowed or delayed). */
  abandoned: number;
  /** Attempts at this provider that followed a failed attempt at another (overall: every such move). */
  failover: { count: number; delay: EncodedHistogram };
  series: CallSeries;
  /** The fault windows this provider had, each judged for breaker behaviour and retry storms. */
  windows: WindowBehaviour[];
}

export interface RetryAfterFacts {
  /** Answers the proxy sent with a Retry-After header. */
  sent: number;
  /** Retries to the same provider after an answer that carried Retry-After. */
  followed: number;
  /** Of those, retries sent sooner than the Retry-After asked, by more than 20 ms of timer tolerance (observer.ts). */
  violations: number;
  /** The largest shortfall (Retry-After minus the delay, ms), null without a violation. */
  worstShortfallMs: number | null;
  /** The shortest delay of a violating retry (ms), null without a violation. */
  earliestMs: number | null;
  /** The first retries after a Retry-After (at most 500), for the HTML chart: run time, delay and Retry-After (ms). */
  samples: Array<{ atMs: number; delayMs: number; retryAfterMs: number }>;
}

/** Dependency calls per bin of `binMs` (by arrival), and how many of them failed (no answer, or a status of 408, 429 or 5xx). */
export interface CallSeries {
  calls: number[];
  failed: number[];
  /**
   * Calls that were their request's first at this provider (overall: first anywhere): new requests,
   * what a breaker holds back. Breakers are judged on these, so retries spilling over from an earlier
   * fault window do not raise the rate a closed breaker must get back to.
   */
  first: number[];
}

/** One fault window of a provider, judged from its series. Durations in ms; -1 means "never" (JSON has no Infinity). */
export interface WindowBehaviour {
  window: string;
  startMs: number;
  endMs: number;
  /** `down` closes the listener: refused connections never reach it, so the breaker cannot be seen. */
  down: boolean;
  /** Every call that reached the provider inside the window failed, and at least one did. */
  failedEveryCall: boolean;
  /** Calls per second in the (up to) 5 s before the window, and inside it. */
  rateBefore: number;
  rateInside: number;
  /** First attempts per second (series.first) in the same span before the window: what breakers are judged against. */
  firstRateBefore: number;
  /** Windows that failed every call, with calls before them: when first attempts fell below 10% of firstRateBefore. */
  breakerOpenAfterMs: number | null;
  /** First attempts per second from the breaker opening until the window's end (half-open probes). */
  breakerProbesPerSecond: number | null;
  /** From the window's end until first attempts returned to 90% of firstRateBefore. */
  breakerCloseAfterMs: number | null;
}
