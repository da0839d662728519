import { decodeHistogram, type LatencySummaryMs } from '../metrics/histogram.js';
import type { ResultDocument, RunAbort, ThresholdVerdict } from '../model/result.js';
import type { Metric, MetricSource } from './metric.js';
import { formatMetric, metricNamed } from './metrics.js';
import { metricOfExpression, type Threshold } from './parse.js';

/** A threshold's worst window of its length: its value (null when no window had data) and when it was, from the run's start. */
export interface WorstWindow {
  value: number | null;
  startMs: number;
  endMs: number;
}

export function compare(actual: number, comparator: Threshold['comparator'], expected: number): boolean {
  switch (comparator) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
  }
}

/**
 * Evaluates every threshold; a metric with no measurement fails (nothing proved), and so does one
 * qualified with a provider the run did not have (its note names those it had).
 */
export function evaluateThresholds(
  thresholds: readonly Threshold[],
  source: MetricSource,
  live: { windows?: ReadonlyMap<string, WorstWindow>; abort?: RunAbort } = {},
): ThresholdVerdict[] {
  const providers = providersOf(source);
  return thresholds.map((threshold) => {
    const { provider, windowMs } = threshold;
    const metric = registered(threshold.metric);
    const missing = provider !== undefined && !providers.includes(provider);
    // A window threshold is judged on its worst window, found while the run went on (ThresholdWatch).
    const worst = windowMs === undefined ? undefined : live.windows?.get(threshold.source);
    const measured = missing
      ? null
      : windowMs !== undefined
        ? (worst?.value ?? null)
        : metric.measure(source, threshold.percentile, provider);
    const aborted = live.abort?.threshold === threshold.source;
    // The threshold that stopped the run failed, whatever the requests finishing in the grace period did to its figure.
    const ok = !aborted && measured !== null && Number.isFinite(measured) && compare(measured, threshold.comparator, threshold.value);
    const verdict = verdictOf(threshold.source, metric, threshold, ok, measured);
    if (threshold.isDefault) verdict.default = true;
    if (windowMs !== undefined && worst) verdict.window = { lengthMs: windowMs, startMs: worst.startMs, endMs: worst.endMs };
    if (aborted) verdict.aborted = { atMs: live.abort!.atMs };
    if (aborted) verdict.note = `stopped the run ${secondsText(live.abort!.atMs)} after its start (${live.abort!.formatted} then)`;
    if (!ok && windowMs !== undefined && live.windows === undefined) {
      verdict.note = 'its windows could not be found again: the merged timeline keeps buckets over 1 s (a run over an hour)';
    } else if (!ok) {
      const note = missing ? missingProviderNote(provider, providers) : metric.explain?.(verdict.actual, source, provider);
      if (note !== undefined) verdict.note = note;
    }
    return verdict;
  });
}

/** The providers a run had: its proxies, and those its dependency calls were observed at. */
function providersOf(source: Pick<MetricSource, 'faults' | 'behaviour'>): string[] {
  return [...new Set([...Object.keys(source.faults?.providers ?? {}), ...Object.keys(source.behaviour?.providers ?? {})])];
}

function missingProviderNote(provider: string, providers: readonly string[]): string {
  const known = providers.length > 0 ? `its providers: ${providers.join(', ')}` : 'it had no chaos proxy';
  return `this run had no provider '${provider}' (${known})`;
}

/**
 * A verdict as written by a resil from before verdicts named their metric and carried the value as
 * shown: those fields found from its expression and the result it belongs to. Undefined when the
 * expression names no metric resil knows.
 */
export function completeVerdict(
  verdict: Pick<ThresholdVerdict, 'expression' | 'ok'> & Partial<ThresholdVerdict>,
  document: ResultDocument,
): ThresholdVerdict | undefined {
  const named = metricOfExpression(verdict.expression);
  if (!named) return undefined;
  const metric = registered(named.metric);
  // Stored null: nothing measured, or a measure with no finite value ('never recovered'): measured again to tell.
  const again = verdict.actual == null ? metric.measure(documentSource(document), named.percentile, named.provider) : null;
  const measured = verdict.actual ?? (again !== null && !Number.isFinite(again) ? again : null);
  const { default: isDefault, note } = verdict;
  return {
    ...verdictOf(verdict.expression, metric, named, verdict.ok, measured),
    ...(isDefault ? { default: true as const } : {}),
    ...(note === undefined ? {} : { note }),
  };
}

/** The percentiles a result's latency summary holds. */
const SUMMARY_PERCENTILES: Readonly<Partial<Record<string, keyof LatencySummaryMs>>> = {
  50: 'p50',
  90: 'p90',
  95: 'p95',
  99: 'p99',
  99.9: 'p999',
};

/**
 * A saved result as a source to measure metrics on (comparisons, verdicts of an older resil): the
 * percentiles the summary holds from it, any other from the latency histogram.
 */
export function documentSource(document: ResultDocument): MetricSource {
  return {
    ...document,
    percentileMs(percentile) {
      if (document.latencyMs === null) return null;
      const key = SUMMARY_PERCENTILES[String(percentile)];
      if (key !== undefined) return document.latencyMs[key];
      const histogram = decodeHistogram(document.histograms.latency);
      try {
        return histogram.totalCount === 0 ? null : histogram.getValueAtPercentile(percentile) / 1000;
      } finally {
        histogram.destroy();
      }
    },
  };
}

function verdictOf(
  expression: string,
  metric: Metric,
  { percentile, provider }: { percentile?: number | undefined; provider?: string | undefined },
  ok: boolean,
  measured: number | null,
): ThresholdVerdict {
  const actual = measured === null || !Number.isFinite(measured) ? null : round(measured);
  return {
    expression,
    metric: metric.name,
    ...(percentile === undefined ? {} : { percentile }),
    ...(provider === undefined ? {} : { provider }),
    kind: metric.kind,
    ok,
    actual,
    formatted: formatMetric(metric, actual ?? measured),
  };
}

/** The registry entry of a parsed threshold's metric: the parser only makes thresholds on registered ones. */
function registered(name: string): Metric {
  const metric = metricNamed(name);
  if (!metric) throw new Error(`threshold metric '${name}' is not in the registry`);
  return metric;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** Milliseconds from the run's start as reports say them: '12s', '2.5s'. */
export function secondsText(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
