import { performance } from 'node:perf_hooks';
import { createLatencyHistogram, encodeHistogram, HIGHEST_TRACKABLE_US, type Histogram } from '../metrics/histogram.js';
import type { BehaviourDocument, CallSeries, ProviderBehaviour, RetryAfterFacts } from '../model/behaviour.js';
import type { Correlation, ObservedCall } from './call.js';
import { BIN_MS, emptySeries, type FaultWindow, judgeWindows, padSeries } from './windows.js';

/**
 * Folds the dependency calls the chaos proxies saw into a BehaviourDocument: which calls were
 * attempts of one request (same correlation key), how long the service waited between them, whether
 * it honoured Retry-After, retried what it should not, gave up on held calls, stopped calling a
 * failed provider (breaker) or moved to another (failover).
 *
 * Memory stays flat however many calls come: a request's state lives only while a retry could still
 * follow. A call that succeeds (status 1xx-3xx) ends its request at once, so most requests never
 * take state; a failed one keeps it until RETRY_WINDOW after its last attempt ended. Open requests
 * sit in a Map in the order they were last touched (re-inserted on each attempt), so expired ones
 * are swept from its front on each record(): amortised O(1), no timers. Everything else goes into
 * counters, HDR histograms (µs; ratios × 1000) and per-provider series of 100 ms bins.
 *
 * Times come from the calls (ms on the run clock), so the observer itself is pure and exact. A retry
 * is seen only when its call is over: an attempt held for longer than the retry window after the
 * previous one ended, or a hedge recorded after its winner succeeded, counts as a new request.
 */

export interface ObserverOptions {
  /** How keys were made (not 'off': nothing is observed then). */
  correlate: Exclude<Correlation, { mode: 'off' }>;
  /** The longest Retry-After any proxy sends (ms): a retry may wait that long, so the window is 3 times it. */
  longestRetryAfterMs: number;
  /**
   * Keep the calls-per-100-ms series (breakers, retry storms, the HTML chart); default true. `resil
   * proxy` runs for as long as it is left and prints counts only: without series its memory stays flat
   * with time as well as with calls (a series grows by 10 bins a second).
   */
  series?: boolean;
}

/** A request is forgotten this long after its last attempt ended, at least (ms): see retryWindowMs(). */
const MIN_RETRY_WINDOW_MS = 10_000;
/** A held call still open at the end says the service never gives up only once held this long, when it gave up on none (ms). */
const MIN_NEVER_MS = 100;
/** Held calls never given up on kept per provider to judge (bounded by the calls held at once, times the `down` windows). */
const MAX_UNFINISHED = 10_000;
/** Retry-After samples kept per provider for the report's chart. */
export const RETRY_AFTER_SAMPLES = 500;
/**
 * A retry counts as sooner than Retry-After only when it is short by more than this (ms): the proxy
 * times the answer's end and the retry's arrival on its own event loop, and a client's timer counts
 * from its loop's cached clock, so on a busy machine a client that waits exactly Retry-After was seen
 * up to 8 ms short (undici's RetryAgent, 0.3-0.8 ms on a quiet one). 20 ms is 2% of a 1 s Retry-After.
 */
export const RETRY_AFTER_TOLERANCE_MS = 20;

/** A retry `delayMs` after an answer that asked for `retryAfterMs` came too soon (beyond the tolerance). */
export function soonerThanRetryAfter(delayMs: number, retryAfterMs: number): boolean {
  return delayMs < retryAfterMs - RETRY_AFTER_TOLERANCE_MS;
}
/**
 * A first retry sooner than this (ms) is immediate: for retry_jitter its delay is 0, as the few
 * milliseconds an immediate retry loop takes vary with scheduling, not with any jitter the client adds.
 */
export const IMMEDIATE_RETRY_MS = 10;
/** Statuses a client should not retry: a retry after one of them is a non-retryable retry. */
export const NON_RETRYABLE = new Set([400, 401, 403, 404, 409, 422, 501]);

/** How long after a failed attempt a call with its key is still a retry: max(10 s, 3 × the longest Retry-After). */
export function retryWindowMs(longestRetryAfterMs: number): number {
  return Math.max(MIN_RETRY_WINDOW_MS, 3 * longestRetryAfterMs);
}

/** An attempt that got no answer, a 408, a 429 or a 5xx: what the series count as failed. */
export function failedStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/** 1xx-3xx: the request got its answer and is over. */
function succeeded(status: number): boolean {
  return status >= 100 && status < 400;
}

const POST_OR_PATCH = new Set(['POST', 'PATCH']);

/** A logical request that may still be retried. */
interface OpenRequest {
  attempts: number;
  /** The provider of its first attempt, and its attempts there (the common case: one provider). */
  provider: string;
  providerAttempts: number;
  /** Attempts at any other provider. */
  elsewhere: Map<string, number> | undefined;
  lastProvider: string;
  lastEndedMs: number;
  lastStatus: number;
  /** The last answer with Retry-After: its provider, end (ms) and Retry-After (ms); the next retry there is judged on it. */
  retryAfter: { provider: string; endedMs: number; ms: number } | undefined;
  /** The previous retry's delay (ms), for backoff growth; undefined before the first retry. */
  lastDelayMs: number | undefined;
}

/** One retry as every tally it belongs to counts it. */
interface Retry {
  attempt: number;
  atMs: number;
  delayMs: number;
  /** The previous retry's delay in the same request (ms), from the third attempt on. */
  previousDelayMs: number | undefined;
  /** The Retry-After this retry's provider asked for in the same request, and the time since that answer (ms). */
  retryAfter: { ms: number; delayMs: number } | undefined;
  unsafe: boolean;
  failover: boolean;
}

export class BehaviourObserver {
  readonly #options: ObserverOptions;
  readonly #retryWindowMs: number;
  #clockStart = performance.now();
  #open = new Map<string, OpenRequest>();
  readonly #series: boolean;
  #overall: Tally;
  #providers = new Map<string, { tally: Tally; windows: readonly FaultWindow[] }>();
  #coverage = { calls: 0, keyedBy: {} as Record<string, number>, matched: 0 };

  constructor(options: ObserverOptions) {
    this.#options = options;
    this.#retryWindowMs = retryWindowMs(options.longestRetryAfterMs);
    this.#series = options.series ?? true;
    this.#overall = new Tally(this.#series);
  }

  /** t = 0 now: call when the fault windows' clocks start. */
  startClock(): void {
    this.#clockStart = performance.now();
  }

  /** Milliseconds on the run clock. */
  now(): number {
    return performance.now() - this.#clockStart;
  }

  /** A provider and its fault windows (run clock), each saying whether its fault closes the listener. */
  addProvider(name: string, windows: ReadonlyArray<FaultWindow>): void {
    const known = this.#providers.get(name);
    if (known) this.#providers.set(name, { ...known, windows });
    else this.#providers.set(name, { tally: new Tally(this.#series), windows });
  }

  /** Requests that may still be retried: bounded by the call rate × the retry window. */
  get openRequests(): number {
    return this.#open.size;
  }

  /** One call, once it is over (or when the run ends, with openAtEnd). */
  record(call: ObservedCall): void {
    const coverage = this.#coverage;
    coverage.calls++;
    coverage.keyedBy[call.keySource] = (coverage.keyedBy[call.keySource] ?? 0) + 1;
    if (call.runRequest) coverage.matched++;
    this.#sweep(call.arrivedMs);
    let open = this.#open.get(call.key);
    if (open !== undefined && call.arrivedMs - open.lastEndedMs > this.#retryWindowMs) {
      this.#fold(open);
      this.#open.delete(call.key);
      open = undefined;
    }
    const tally = this.#tally(call.provider);
    const firstHere = open === undefined || (call.provider !== open.provider && !open.elsewhere?.has(call.provider));
    tally.call(call, firstHere);
    this.#overall.call(call, open === undefined);
    if (open === undefined) {
      if (succeeded(call.status)) {
        tally.request(1);
        this.#overall.request(1);
        return;
      }
      this.#open.set(call.key, firstAttempt(call));
      return;
    }

    const delayMs = Math.max(0, call.arrivedMs - open.lastEndedMs);
    const failover = open.lastProvider !== call.provider;
    // Retry-After binds the provider that sent it, however many attempts elsewhere came between.
    const asked = open.retryAfter?.provider === call.provider ? open.retryAfter : undefined;
    const retry: Retry = {
      attempt: open.attempts + 1,
      atMs: call.arrivedMs,
      delayMs,
      // Backoff grows between retries at one provider: a move to another is a failover, timed on its own.
      previousDelayMs: failover ? undefined : open.lastDelayMs,
      retryAfter: asked && { ms: asked.ms, delayMs: Math.max(0, call.arrivedMs - asked.endedMs) },
      unsafe: POST_OR_PATCH.has(call.method) && !call.idempotencyKey,
      failover,
    };
    if (asked) open.retryAfter = undefined;
    tally.retry(retry);
    this.#overall.retry(retry);
    // A retry after a status that should not be retried is the fault of the request, counted where that status came from.
    if (NON_RETRYABLE.has(open.lastStatus)) {
      this.#tally(open.lastProvider).nonRetryableRetry(open.lastStatus);
      this.#overall.nonRetryableRetry(open.lastStatus);
    }

    open.attempts++;
    if (call.provider === open.provider) open.providerAttempts++;
    else {
      open.elsewhere ??= new Map();
      open.elsewhere.set(call.provider, (open.elsewhere.get(call.provider) ?? 0) + 1);
    }
    open.lastProvider = call.provider;
    open.lastEndedMs = call.endedMs;
    open.lastStatus = call.status;
    if (call.retryAfterMs !== undefined) open.retryAfter = { provider: call.provider, endedMs: call.endedMs, ms: call.retryAfterMs };
    open.lastDelayMs = failover ? undefined : delayMs;
    this.#open.delete(call.key);
    if (succeeded(call.status)) this.#fold(open);
    else this.#open.set(call.key, open);
  }

  /**
   * The behaviour section: folds the requests still open first. `endMs`: the run's end on its clock
   * (now by default), up to which the series run and breakers may close.
   */
  document(endMs: number = this.now()): BehaviourDocument {
    for (const open of this.#open.values()) this.#fold(open);
    this.#open.clear();
    const bins = Math.ceil(endMs / BIN_MS);
    const providers: Record<string, ProviderBehaviour> = {};
    for (const [name, { tally, windows }] of this.#providers) providers[name] = tally.document(bins, windows);
    const overall = this.#overall.document(bins, []);
    overall.windows = Object.values(providers).flatMap((p) => p.windows);
    const { correlate } = this.#options;
    return {
      correlate: correlate.mode === 'header' ? `header:${correlate.header}` : correlate.mode,
      retryWindowMs: this.#retryWindowMs,
      binMs: BIN_MS,
      correlation: { calls: this.#coverage.calls, keyedBy: { ...this.#coverage.keyedBy }, matched: this.#coverage.matched },
      overall,
      providers,
    };
  }

  /** Forgets every call (a campaign's next scenario); providers and their windows stay until added again. */
  reset(): void {
    this.#open.clear();
    this.#overall = new Tally(this.#series);
    for (const provider of this.#providers.values()) provider.tally = new Tally(this.#series);
    this.#coverage = { calls: 0, keyedBy: {}, matched: 0 };
  }

  #tally(provider: string): Tally {
    let known = this.#providers.get(provider);
    if (known === undefined) {
      known = { tally: new Tally(this.#series), windows: [] };
      this.#providers.set(provider, known);
    }
    return known.tally;
  }

  /** Folds requests whose last attempt ended longer than the retry window before `nowMs`. */
  #sweep(nowMs: number): void {
    if (this.#open.size === 0) return;
    const oldest = nowMs - this.#retryWindowMs;
    for (const [key, open] of this.#open) {
      if (open.lastEndedMs >= oldest) return;
      this.#fold(open);
      this.#open.delete(key);
    }
  }

  #fold(open: OpenRequest): void {
    this.#overall.request(open.attempts);
    this.#tally(open.provider).request(open.providerAttempts);
    if (open.elsewhere) for (const [provider, attempts] of open.elsewhere) this.#tally(provider).request(attempts);
  }
}

function firstAttempt(call: ObservedCall): OpenRequest {
  return {
    attempts: 1,
    provider: call.provider,
    providerAttempts: 1,
    elsewhere: undefined,
    lastProvider: call.provider,
    lastEndedMs: call.endedMs,
    lastStatus: call.status,
    retryAfter: call.retryAfterMs === undefined ? undefined : { provider: call.provider, endedMs: call.endedMs, ms: call.retryAfterMs },
    lastDelayMs: undefined,
  };
}

/** Milliseconds rounded to the microsecond, as the document stores times (no float noise like 1185.6139999999998). */
function toMicrosecond(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Milliseconds to whole microseconds in a histogram's range; 0 stays 0 (an immediate retry). */
function micros(ms: number): number {
  return Math.min(Math.max(Math.round(ms * 1000), 0), HIGHEST_TRACKABLE_US);
}

/** What one provider (or all of them) saw, in counters, lazily made histograms and a series. */
class Tally {
  /** `keepSeries`: count calls per bin (see ObserverOptions.series). */
  constructor(private readonly keepSeries: boolean) {}

  calls = 0;
  reused = 0;
  requests = 0;
  /** Requests by attempts: attempts[n] requests took n attempts. */
  attempts: number[] = [];
  retries = 0;
  retryDelay: Histogram | undefined;
  firstRetryDelay = { count: 0, sumMs: 0, sumSquaresMs: 0 };
  backoffGrowth: Histogram | undefined;
  retryAfter: RetryAfterFacts = { sent: 0, followed: 0, violations: 0, worstShortfallMs: null, earliestMs: null, samples: [] };
  nonRetryable = { answered: 0, retries: 0, byStatus: {} as Record<string, number> };
  unsafeRetries = 0;
  held = 0;
  waited: Histogram | undefined;
  /** The longest wait the service gave up on (ms). */
  longestWaitMs = 0;
  /** How long each held call the service never gave up on had been held (ms): judged in neverGivenUp(). */
  unfinished: number[] = [];
  abandoned = 0;
  failovers = 0;
  failoverDelay: Histogram | undefined;
  series: CallSeries = emptySeries();

  /** `first`: the call is its request's first here (overall: first anywhere). */
  call(call: ObservedCall, first: boolean): void {
    this.calls++;
    if (call.reused) this.reused++;
    if (this.keepSeries) {
      const bin = Math.max(0, Math.floor(call.arrivedMs / BIN_MS));
      const series = this.series;
      if (bin >= series.calls.length) padSeries(series, bin + 1);
      series.calls[bin]!++;
      if (failedStatus(call.status)) series.failed[bin]!++;
      if (first) series.first[bin]!++;
    }
    if (call.retryAfterMs !== undefined) this.retryAfter.sent++;
    if (NON_RETRYABLE.has(call.status)) this.nonRetryable.answered++;
    if (call.clientGone) this.abandoned++;
    if (call.fault === 'timeout') {
      this.held++;
      if (call.clientGone) {
        this.waited ??= createLatencyHistogram();
        this.waited.recordValue(micros(call.endedMs - call.arrivedMs));
        this.longestWaitMs = Math.max(this.longestWaitMs, call.endedMs - call.arrivedMs);
      } else if (this.unfinished.length < MAX_UNFINISHED) {
        // Still waited on at the end, or cut by the proxy itself (`down`).
        this.unfinished.push(call.endedMs - call.arrivedMs);
      }
    }
  }

  request(attempts: number): void {
    this.requests++;
    this.attempts[attempts] = (this.attempts[attempts] ?? 0) + 1;
  }

  retry(retry: Retry): void {
    this.retries++;
    if (retry.failover) {
      this.failovers++;
      this.failoverDelay ??= createLatencyHistogram();
      this.failoverDelay.recordValue(micros(retry.delayMs));
    } else this.#sameProviderRetry(retry);
    if (retry.retryAfter !== undefined) this.#afterRetryAfter(retry.atMs, retry.retryAfter);
    if (retry.unsafe) this.unsafeRetries++;
  }

  nonRetryableRetry(status: number): void {
    this.nonRetryable.retries++;
    this.nonRetryable.byStatus[String(status)] = (this.nonRetryable.byStatus[String(status)] ?? 0) + 1;
  }

  /** A retry at the provider of the attempt before it: its delay is a backoff (a move elsewhere is a failover, timed apart). */
  #sameProviderRetry(retry: Retry): void {
    this.retryDelay ??= createLatencyHistogram();
    this.retryDelay.recordValue(micros(retry.delayMs));
    if (retry.attempt === 2) {
      // An immediate retry's delay is scheduling noise, not jitter: under IMMEDIATE_RETRY_MS it counts as 0.
      const delayMs = retry.delayMs < IMMEDIATE_RETRY_MS ? 0 : retry.delayMs;
      this.firstRetryDelay.count++;
      this.firstRetryDelay.sumMs += delayMs;
      this.firstRetryDelay.sumSquaresMs += delayMs * delayMs;
    }
    // A ratio to an immediate retry has no finite value: growth is judged between delays that waited.
    if (retry.previousDelayMs !== undefined && retry.previousDelayMs > 0) {
      this.backoffGrowth ??= createLatencyHistogram();
      this.backoffGrowth.recordValue(Math.min(Math.round((retry.delayMs / retry.previousDelayMs) * 1000), HIGHEST_TRACKABLE_US));
    }
  }

  #afterRetryAfter(atMs: number, { ms: retryAfterMs, delayMs }: { ms: number; delayMs: number }): void {
    const facts = this.retryAfter;
    facts.followed++;
    if (facts.samples.length < RETRY_AFTER_SAMPLES) {
      facts.samples.push({ atMs: toMicrosecond(atMs), delayMs: toMicrosecond(delayMs), retryAfterMs });
    }
    if (!soonerThanRetryAfter(delayMs, retryAfterMs)) return;
    facts.violations++;
    facts.worstShortfallMs = Math.max(facts.worstShortfallMs ?? 0, toMicrosecond(retryAfterMs - delayMs));
    facts.earliestMs = Math.min(facts.earliestMs ?? Number.POSITIVE_INFINITY, toMicrosecond(delayMs));
  }

  /**
   * Held calls the service never gave up on: of those still waited on when the run ended or cut by
   * the proxy, the ones held more than twice as long as any wait it did give up on (MIN_NEVER_MS when
   * it gave up on none). A call caught by the end of the run 50 ms after it came says nothing of a
   * service that gives up after 200 ms, nor one caught at 210 ms whose give-up was still on its way
   * (a busy machine: a 200 ms-timeout client read `never` twice in CI at the bare bound).
   */
  neverGivenUp(): number {
    const bound = this.waited === undefined ? MIN_NEVER_MS : 2 * this.longestWaitMs;
    return this.unfinished.filter((heldMs) => heldMs > bound).length;
  }

  document(bins: number, windows: readonly FaultWindow[]): ProviderBehaviour {
    const series: CallSeries = { calls: [...this.series.calls], failed: [...this.series.failed], first: [...this.series.first] };
    if (this.keepSeries) padSeries(series, bins);
    const attempts: Record<string, number> = {};
    this.attempts.forEach((count, n) => {
      if (count) attempts[String(n)] = count;
    });
    return {
      calls: this.calls,
      reusedConnections: this.reused,
      requests: this.requests,
      attempts,
      retries: this.retries,
      retryDelay: encoded(this.retryDelay),
      firstRetryDelay: { ...this.firstRetryDelay },
      backoffGrowth: encoded(this.backoffGrowth),
      retryAfter: { ...this.retryAfter, samples: [...this.retryAfter.samples] },
      nonRetryable: { ...this.nonRetryable, byStatus: { ...this.nonRetryable.byStatus } },
      unsafeRetries: this.unsafeRetries,
      timeouts: { held: this.held, waited: encoded(this.waited), never: this.neverGivenUp() },
      abandoned: this.abandoned,
      failover: { count: this.failovers, delay: encoded(this.failoverDelay) },
      series,
      windows: judgeWindows(series, windows, BIN_MS),
    };
  }
}

function encoded(histogram: Histogram | undefined): string | null {
  return histogram === undefined || histogram.totalCount === 0 ? null : encodeHistogram(histogram);
}
