import { addEncoded, createLatencyHistogram, encodeHistogram } from '../metrics/histogram.js';
import type { BehaviourDocument, CallSeries, EncodedHistogram, ProviderBehaviour } from '../model/behaviour.js';
import { RETRY_AFTER_SAMPLES } from './observer.js';
import { judgeWindows, padSeries } from './windows.js';

/**
 * `resil report --merge`: adds a shard's behaviour section into another, exactly: counters and
 * histograms add, series add bin by bin, and each window is judged again on the summed series (as
 * the observer judges it), so breaker figures are those of the whole load, not of either shard.
 * `into` is changed in place: pass a copy (structuredClone) to keep the original.
 */
export function addBehaviour(into: BehaviourDocument, from: BehaviourDocument): void {
  into.retryWindowMs = Math.max(into.retryWindowMs, from.retryWindowMs);
  into.correlation.calls += from.correlation.calls;
  into.correlation.matched += from.correlation.matched;
  addCounts(into.correlation.keyedBy, from.correlation.keyedBy);
  for (const [name, provider] of Object.entries(from.providers)) {
    const known = into.providers[name];
    if (known === undefined) into.providers[name] = structuredClone(provider);
    else addProvider(known, provider);
  }
  addProvider(into.overall, from.overall);
  for (const provider of Object.values(into.providers)) rejudge(provider, into.binMs);
  into.overall.windows = Object.values(into.providers).flatMap((p) => p.windows);
}

function addProvider(into: ProviderBehaviour, from: ProviderBehaviour): void {
  into.calls += from.calls;
  into.reusedConnections += from.reusedConnections;
  into.requests += from.requests;
  addCounts(into.attempts, from.attempts);
  into.retries += from.retries;
  into.retryDelay = addHistograms(into.retryDelay, from.retryDelay);
  into.firstRetryDelay.count += from.firstRetryDelay.count;
  into.firstRetryDelay.sumMs += from.firstRetryDelay.sumMs;
  into.firstRetryDelay.sumSquaresMs += from.firstRetryDelay.sumSquaresMs;
  into.backoffGrowth = addHistograms(into.backoffGrowth, from.backoffGrowth);

  const ra = into.retryAfter;
  ra.sent += from.retryAfter.sent;
  ra.followed += from.retryAfter.followed;
  ra.violations += from.retryAfter.violations;
  ra.worstShortfallMs = extreme(Math.max, ra.worstShortfallMs, from.retryAfter.worstShortfallMs);
  ra.earliestMs = extreme(Math.min, ra.earliestMs, from.retryAfter.earliestMs);
  ra.samples = [...ra.samples, ...from.retryAfter.samples].sort((a, b) => a.atMs - b.atMs).slice(0, RETRY_AFTER_SAMPLES);

  into.nonRetryable.answered += from.nonRetryable.answered;
  into.nonRetryable.retries += from.nonRetryable.retries;
  addCounts(into.nonRetryable.byStatus, from.nonRetryable.byStatus);
  into.unsafeRetries += from.unsafeRetries;
  into.timeouts.held += from.timeouts.held;
  into.timeouts.never += from.timeouts.never;
  into.timeouts.waited = addHistograms(into.timeouts.waited, from.timeouts.waited);
  into.abandoned += from.abandoned;
  into.failover.count += from.failover.count;
  into.failover.delay = addHistograms(into.failover.delay, from.failover.delay);
  addSeries(into.series, from.series);
  // Windows a shard had and this one did not (judged again below, on the summed series).
  for (const window of from.windows) if (!into.windows.some((w) => w.window === window.window)) into.windows.push({ ...window });
}

function rejudge(provider: ProviderBehaviour, binMs: number): void {
  const windows = provider.windows.map(({ window, startMs, endMs, down }) => ({ source: window, startMs, endMs, down }));
  provider.windows = judgeWindows(provider.series, windows, binMs);
}

function addSeries(into: CallSeries, from: CallSeries): void {
  padSeries(into, from.calls.length);
  from.calls.forEach((calls, bin) => {
    into.calls[bin]! += calls;
  });
  from.failed.forEach((failed, bin) => {
    into.failed[bin]! += failed;
  });
  from.first.forEach((first, bin) => {
    into.first[bin]! += first;
  });
}

function addHistograms(a: EncodedHistogram, b: EncodedHistogram): EncodedHistogram {
  if (a === null || b === null) return a ?? b;
  const sum = createLatencyHistogram();
  addEncoded(sum, a);
  addEncoded(sum, b);
  const encoded = encodeHistogram(sum);
  sum.destroy();
  return encoded;
}

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [name, count] of Object.entries(from)) into[name] = (into[name] ?? 0) + count;
}

function extreme(pick: (a: number, b: number) => number, a: number | null, b: number | null): number | null {
  if (a === null || b === null) return a ?? b;
  return pick(a, b);
}
