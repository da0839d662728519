import { decodeHistogram } from '../metrics/histogram.js';
import type { BehaviourDocument, EncodedHistogram, ProviderBehaviour, WindowBehaviour } from '../model/behaviour.js';
import { soonerThanRetryAfter } from './observer.js';
import { formatCount, formatFactor, formatMs, formatRate } from '../util/format.js';

/**
 * The dependency-behaviour metrics, measured from a result's `behaviour` section alone, so a merged
 * result (`resil report --merge`) measures exactly as a single run does. Each measure returns null
 * when its situation never arose (no Retry-After was sent, no window failed every call...): why()
 * says so in one line with the fault that would exercise it; sentence() says in plain words what a
 * measured value means, for a failed verdict. Durations in ms (HDR histograms: within 0.1%);
 * Infinity is "never".
 */

export type BehaviourMetricName =
  | 'attempts_max'
  | 'attempts_mean'
  | 'retries'
  | 'retry_delay_min'
  | 'retry_delay_p50'
  | 'backoff_growth'
  | 'retry_jitter'
  | 'retry_after_violations'
  | 'non_retryable_retries'
  | 'unsafe_retries'
  | 'dependency_timeout'
  | 'dependency_timeout_max'
  | 'breaker_open_after'
  | 'breaker_probes'
  | 'breaker_close_after'
  | 'failover_delay'
  | 'failover_delay_p99'
  | 'retry_storm';

/** One provider's behaviour, or every provider's (`overall`) without one; undefined when it took no part. */
export function behaviourOf(document: BehaviourDocument, provider?: string): ProviderBehaviour | undefined {
  return provider === undefined ? document.overall : document.providers[provider];
}

export function attemptsMax(b: ProviderBehaviour): number | null {
  const counts = Object.entries(b.attempts).filter(([, count]) => count > 0);
  return counts.length === 0 ? null : Math.max(...counts.map(([attempts]) => Number(attempts)));
}

export function attemptsMean(b: ProviderBehaviour): number | null {
  if (b.requests === 0) return null;
  const attempts = Object.entries(b.attempts).reduce((sum, [n, count]) => sum + Number(n) * count, 0);
  return attempts / b.requests;
}

export function retries(b: ProviderBehaviour): number | null {
  return b.calls === 0 ? null : b.retries;
}

export function retryDelayMin(b: ProviderBehaviour): number | null {
  return percentileMs(b.retryDelay, 0);
}

export function retryDelayP50(b: ProviderBehaviour): number | null {
  return percentileMs(b.retryDelay, 50);
}

/** Median ratio of a retry's delay to the previous one in the same request (2.0 = doubling). */
export function backoffGrowth(b: ProviderBehaviour): number | null {
  return fromHistogram(b.backoffGrowth, (h) => h.getValueAtPercentile(50) / 1000);
}

/** Coefficient of variation (population) of first-retry delays across requests; needs two of them. */
export function retryJitter(b: ProviderBehaviour): number | null {
  const { count, sumMs, sumSquaresMs } = b.firstRetryDelay;
  if (count < 2) return null;
  const mean = sumMs / count;
  const variance = Math.max(0, sumSquaresMs / count - mean * mean);
  if (mean === 0) return 0;
  return Math.sqrt(variance) / mean;
}

export function retryAfterViolations(b: ProviderBehaviour): number | null {
  return b.retryAfter.sent === 0 ? null : b.retryAfter.violations;
}

export function nonRetryableRetries(b: ProviderBehaviour): number | null {
  return b.nonRetryable.answered === 0 ? null : b.nonRetryable.retries;
}

export function unsafeRetries(b: ProviderBehaviour): number | null {
  return b.retries === 0 ? null : b.unsafeRetries;
}

/** Median wait on a held call before the service gave up; Infinity when it never gave up on any. */
export function dependencyTimeout(b: ProviderBehaviour): number | null {
  const waited = percentileMs(b.timeouts.waited, 50);
  if (waited !== null) return waited;
  return b.timeouts.never > 0 ? Number.POSITIVE_INFINITY : null;
}

/** The longest wait on a held call; Infinity when any was still waited on at the end. */
export function dependencyTimeoutMax(b: ProviderBehaviour): number | null {
  if (b.timeouts.never > 0) return Number.POSITIVE_INFINITY;
  return fromHistogram(b.timeouts.waited, (h) => h.maxValue / 1000);
}

/** The slowest breaker to open over the windows that failed every call; Infinity when one never did. */
export function breakerOpenAfter(b: ProviderBehaviour): number | null {
  return worst(judged(b).map((w) => w.breakerOpenAfterMs));
}

/** Mean calls per second to a failed provider once its breaker opened (half-open probes). */
export function breakerProbes(b: ProviderBehaviour): number | null {
  const probes = judged(b).flatMap((w) => (w.breakerProbesPerSecond === null ? [] : [w.breakerProbesPerSecond]));
  return probes.length === 0 ? null : probes.reduce((sum, rate) => sum + rate, 0) / probes.length;
}

export function breakerCloseAfter(b: ProviderBehaviour): number | null {
  return worst(judged(b).map((w) => w.breakerCloseAfterMs));
}

export function failoverDelay(b: ProviderBehaviour): number | null {
  return percentileMs(b.failover.delay, 50);
}

export function failoverDelayP99(b: ProviderBehaviour): number | null {
  return percentileMs(b.failover.delay, 99);
}

/** The largest ratio, over the provider's windows with calls before them, of the call rate inside to before. */
export function retryStorm(b: ProviderBehaviour): number | null {
  const storms = stormWindows(b).map((w) => w.rateInside / w.rateBefore);
  return storms.length === 0 ? null : Math.max(...storms);
}

const MEASURES: Readonly<Record<BehaviourMetricName, (b: ProviderBehaviour) => number | null>> = {
  attempts_max: attemptsMax,
  attempts_mean: attemptsMean,
  retries,
  retry_delay_min: retryDelayMin,
  retry_delay_p50: retryDelayP50,
  backoff_growth: backoffGrowth,
  retry_jitter: retryJitter,
  retry_after_violations: retryAfterViolations,
  non_retryable_retries: nonRetryableRetries,
  unsafe_retries: unsafeRetries,
  dependency_timeout: dependencyTimeout,
  dependency_timeout_max: dependencyTimeoutMax,
  breaker_open_after: breakerOpenAfter,
  breaker_probes: breakerProbes,
  breaker_close_after: breakerCloseAfter,
  failover_delay: failoverDelay,
  failover_delay_p99: failoverDelayP99,
  retry_storm: retryStorm,
};

/** A metric's value from a result's behaviour section, for one provider or over all; null when there is none. */
export function measureBehaviour(name: BehaviourMetricName, document: BehaviourDocument | undefined, provider?: string): number | null {
  const behaviour = document && behaviourOf(document, provider);
  return behaviour ? MEASURES[name](behaviour) : null;
}

const RETRY_HINT = 'inject status:503 (or reset) so the service has something to retry';
const BREAKER_HINT =
  'give a window with --failure-rate 1 and a fault such as status:503, with calls in the second before it, and read breakers on it';

/** Why a metric has no value, in one line with the fault that would exercise it; undefined when it has one. */
export function why(name: BehaviourMetricName, document: BehaviourDocument | undefined, provider?: string): string | undefined {
  if (document === undefined) return 'no dependency call was observed: dependency behaviour is measured by chaos runs with --correlate on';
  const b = behaviourOf(document, provider);
  if (b === undefined) return `no provider named '${provider}' took part: it has ${providerList(document)}`;
  if (MEASURES[name](b) !== null) return undefined;
  if (b.calls === 0) return `no dependency call reached ${where(provider)}`;
  switch (name) {
    case 'attempts_max':
    case 'attempts_mean':
    case 'retries':
      return `no request reached ${where(provider)}`;
    case 'retry_delay_min':
    case 'retry_delay_p50':
    case 'unsafe_retries':
      return `no call to ${where(provider)} was retried: ${RETRY_HINT}`;
    case 'backoff_growth':
      return `no request to ${where(provider)} was retried twice after waiting: ${RETRY_HINT}, at a failure rate that fails some requests twice`;
    case 'retry_jitter':
      return `fewer than two requests to ${where(provider)} were retried: ${RETRY_HINT}`;
    case 'retry_after_violations':
      return `no answer from ${where(provider)} carried Retry-After: inject status:429 or status:503 so the proxy sends one`;
    case 'non_retryable_retries':
      return `no call to ${where(provider)} was answered with 400, 401, 403, 404, 409, 422 or 501: inject status:400 (or another of them)`;
    case 'dependency_timeout':
    case 'dependency_timeout_max':
      return `the proxy held no call to ${where(provider)}, or the service gave up on none: inject timeout`;
    case 'breaker_open_after':
    case 'breaker_probes':
    case 'breaker_close_after':
      return breakerWhy(b, provider);
    case 'failover_delay':
    case 'failover_delay_p99':
      if (provider === undefined && Object.keys(document.providers).length > 1 && failedCalls(b) > 0) {
        return `${plural(failedCalls(b), 'call')} failed, and no request moved to another provider after one: the service did not fail over`;
      }
      return `no request moved to ${provider === undefined ? 'another provider' : `${provider} from another provider`} after a failed attempt: fail the first provider (status:503 or reset) and give the service a second one`;
    case 'retry_storm':
      return b.windows.some((w) => w.down)
        ? `${where(provider)} had only down windows: refused connections never reach the proxy, so a storm cannot be seen; use a fault such as status:503`
        : `${where(provider)} had no fault window with calls before it: give a window that starts after the load has run a second`;
  }
}

/** Calls that got no answer, a 408, a 429 or a 5xx (the series' failed bins). */
function failedCalls(b: ProviderBehaviour): number {
  return b.series.failed.reduce((sum, n) => sum + n, 0);
}

function breakerWhy(b: ProviderBehaviour, provider: string | undefined): string {
  const windows = b.windows;
  if (windows.length > 0 && windows.every((w) => w.down)) {
    return `${where(provider)} had only down windows: refused connections never reach the proxy, so a breaker cannot be seen; ${BREAKER_HINT}`;
  }
  const failing = windows.filter((w) => w.failedEveryCall);
  if (failing.length === 0) return `no fault window failed every call to ${where(provider)}: ${BREAKER_HINT}`;
  if (failing.every((w) => w.breakerOpenAfterMs === null))
    return `the windows that failed every call to ${where(provider)} had no calls in the second before them to compare with: start them later`;
  // breaker_open_after has a value here (never): probes and closing follow an opening.
  return `calls to ${where(provider)} never fell below 10% of the earlier rate: no breaker opened, so there are no probes or closing to time`;
}

/**
 * What a measured value means, in plain words, for a failed verdict: "23 retries came sooner than
 * Retry-After: 1s; the earliest after 4.00ms". Undefined when there is no value (see why()).
 */
export function sentence(name: BehaviourMetricName, document: BehaviourDocument | undefined, provider?: string): string | undefined {
  const b = document && behaviourOf(document, provider);
  const value = b ? MEASURES[name](b) : null;
  if (!b || value === null) return undefined;
  const to = where(provider);
  switch (name) {
    case 'attempts_max':
      return `a request to ${to} took ${plural(value, 'attempt')} (requests by attempts: ${attemptList(b)})`;
    case 'attempts_mean':
      return `requests to ${to} took ${formatFactor(value)} attempts on average (${plural(b.requests, 'request')})`;
    case 'retries':
      return `${plural(value, 'call')} to ${to} ${value === 1 ? 'was a retry' : 'were retries'} (of ${formatCount(b.calls)})`;
    case 'retry_delay_min':
      return `the quickest retry to ${to} came ${formatMs(value)} after the failed attempt ended`;
    case 'retry_delay_p50':
      return `half the retries to ${to} came within ${formatMs(value)} of the failed attempt's end`;
    case 'backoff_growth':
      return `successive retry delays to ${to} grew by a median factor of ${formatFactor(value)} (1.00 is a fixed delay, 2.00 doubling)`;
    case 'retry_jitter':
      return (
        `first retries to ${to} were spread by a coefficient of variation of ${formatFactor(value)} over ` +
        `${plural(b.firstRetryDelay.count, 'request')} (0 is every caller retrying in lockstep)`
      );
    case 'retry_after_violations':
      return retryAfterSentence(b, to);
    case 'non_retryable_retries': {
      const statuses = Object.entries(b.nonRetryable.byStatus).map(([status, n]) => `${status}×${formatCount(n)}`);
      const unsafe = b.unsafeRetries > 0 ? `; ${plural(b.unsafeRetries, 'retry', 'retries')} of POST or PATCH had no Idempotency-Key` : '';
      return `${plural(value, 'retry', 'retries')} to ${to} followed a status that should not be retried${statuses.length > 0 ? ` (${statuses.join(', ')})` : ''}${unsafe}`;
    }
    case 'unsafe_retries':
      return `${plural(value, 'retry', 'retries')} of POST or PATCH to ${to} had no Idempotency-Key: the same payment, order or write may be made twice`;
    case 'dependency_timeout':
      return Number.isFinite(value)
        ? `the service gave up on calls the proxy held at ${to} after ${formatMs(value)} (median of ${plural(waitedCount(b), 'call')})`
        : `the service waited on every call the proxy held at ${to} until the run ended or the proxy cut it: it has no timeout on this dependency`;
    case 'dependency_timeout_max':
      return Number.isFinite(value)
        ? `the service waited up to ${formatMs(value)} on a call the proxy held at ${to}`
        : `${plural(b.timeouts.never, 'call')} the proxy held at ${to} ${b.timeouts.never === 1 ? 'was' : 'were'} still waited on when the run ended or the proxy cut ${b.timeouts.never === 1 ? 'it' : 'them'}`;
    case 'breaker_open_after':
      return breakerOpenSentence(b, value);
    case 'breaker_probes':
      return `while ${to} failed every call, the service still sent ${formatRate(value)} after its calls had fallen off (half-open probes)`;
    case 'breaker_close_after': {
      const slowest = judged(b).find((w) => w.breakerCloseAfterMs === (Number.isFinite(value) ? value : -1))!;
      return Number.isFinite(value)
        ? `after window ${slowest.window} ended, calls to ${to} took ${formatMs(value)} to come back to 90% of the earlier rate`
        : `after window ${slowest.window} ended, calls to ${to} never came back to 90% of the earlier rate before the run ended`;
    }
    case 'failover_delay':
    case 'failover_delay_p99':
      return `moving ${provider === undefined ? 'to another provider' : `to ${provider}`} after a failed attempt took ${formatMs(value)} (${name === 'failover_delay' ? 'median' : 'p99'} of ${plural(b.failover.count, 'failover')})`;
    case 'retry_storm': {
      const storm = stormWindows(b).reduce((a, w) => (w.rateInside / w.rateBefore > a.rateInside / a.rateBefore ? w : a));
      return `in window ${storm.window} calls to ${to} came ${formatFactor(value)} times as fast as before it (${formatRate(storm.rateInside)} against ${formatRate(storm.rateBefore)})`;
    }
  }
}

function retryAfterSentence(b: ProviderBehaviour, to: string): string {
  const { violations, followed, earliestMs, worstShortfallMs, samples } = b.retryAfter;
  if (violations === 0) return `every retry to ${to} after a Retry-After waited as asked (${plural(followed, 'retry', 'retries')})`;
  const asked = new Set(samples.filter((s) => soonerThanRetryAfter(s.delayMs, s.retryAfterMs)).map((s) => s.retryAfterMs));
  const retryAfter = asked.size === 1 ? `Retry-After: ${formatMs([...asked][0]!)}` : 'the Retry-After they were given';
  return (
    `${plural(violations, 'retry', 'retries')} to ${to} came sooner than ${retryAfter}; the earliest after ${formatMs(earliestMs ?? 0)}, ` +
    `the worst ${formatMs(worstShortfallMs ?? 0)} short`
  );
}

function breakerOpenSentence(b: ProviderBehaviour, value: number): string {
  const windows = judged(b);
  if (Number.isFinite(value)) {
    const slowest = windows.find((w) => w.breakerOpenAfterMs === value)!;
    return `in window ${slowest.window}, which failed every call, calls fell below 10% of the earlier rate only after ${formatMs(value)}`;
  }
  const open = windows.find((w) => w.breakerOpenAfterMs === -1)!;
  return (
    `in window ${open.window} every call failed and calls kept coming at ${formatRate(open.rateInside)} ` +
    `(${formatRate(open.rateBefore)} before it): no breaker opened`
  );
}

/** Windows that failed every call, with calls before them: the ones a breaker is judged on. */
function judged(b: ProviderBehaviour): WindowBehaviour[] {
  return b.windows.filter((w) => w.failedEveryCall && w.breakerOpenAfterMs !== null);
}

/** Windows the proxy could see, with calls before them: a storm is judged on these. */
function stormWindows(b: ProviderBehaviour): WindowBehaviour[] {
  return b.windows.filter((w) => !w.down && w.rateBefore > 0);
}

/** The largest of durations where -1 is never (Infinity); null for none. */
function worst(values: ReadonlyArray<number | null>): number | null {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return null;
  return known.some((v) => v === -1) ? Number.POSITIVE_INFINITY : Math.max(...known);
}

function fromHistogram(encoded: EncodedHistogram, read: (h: ReturnType<typeof decodeHistogram>) => number): number | null {
  if (encoded === null) return null;
  const histogram = decodeHistogram(encoded);
  try {
    return histogram.totalCount === 0 ? null : read(histogram);
  } finally {
    histogram.destroy();
  }
}

function percentileMs(encoded: EncodedHistogram, percentile: number): number | null {
  return fromHistogram(encoded, (h) => h.getValueAtPercentile(percentile) / 1000);
}

function waitedCount(b: ProviderBehaviour): number {
  return fromHistogram(b.timeouts.waited, (h) => h.totalCount) ?? 0;
}

function attemptList(b: ProviderBehaviour): string {
  return Object.entries(b.attempts)
    .map(([n, count]) => `${formatCount(count)} took ${n}`)
    .join(', ');
}

function providerList(document: BehaviourDocument): string {
  const names = Object.keys(document.providers);
  return names.length === 0 ? 'none' : names.join(', ');
}

function where(provider: string | undefined): string {
  return provider ?? 'the dependencies';
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}
