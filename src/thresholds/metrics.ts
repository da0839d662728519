import { worstRecoveryMs } from '../chaos/recovery.js';
import { dependencyCalls, noCallNote } from '../chaos/verdicts.js';
import { BEHAVIOUR_METRICS } from './behaviour-metrics.js';
import { STREAM_METRICS } from './stream-metrics.js';
import type { Metric } from './metric.js';
import { formatCount, formatFactor, formatMs, formatPercent, formatRate, NO_DATA } from '../util/format.js';

/**
 * The threshold metric registry: every metric a threshold may name, with what it is, how it is
 * measured from a result's figures and how its value is written. Parser, evaluation, every report
 * and `resil report --baseline` read it from here; none of them knows a metric by name. Adding a
 * metric is one entry below plus the result field its `measure` reads (src/model/result.ts).
 *
 * How a value is written in a threshold follows the kind: `ratio` takes 0.95 or 95%; `duration` takes
 * 300ms, 1s, 250us (a bare number is ms, as in k6); `rate`, `count` and `factor` take a plain number.
 */

const METRICS: readonly Metric[] = [
  {
    name: 'success_rate',
    windowed: true,
    kind: 'ratio',
    unit: 'ratio',
    better: 'higher',
    compare: 'default',
    description: 'share of requests that passed every check (requests cut unanswered at stop or dropped count as failed)',
    measure: (s) => s.successRate,
  },
  {
    name: 'error_rate',
    windowed: true,
    kind: 'ratio',
    unit: 'ratio',
    better: 'lower',
    sameAs: 'success_rate',
    description: 'share of requests that failed, cut unanswered at stop or dropped',
    measure: (s) => (s.successRate === null ? null : 1 - s.successRate),
  },
  {
    name: 'rps',
    windowed: true,
    kind: 'rate',
    unit: 'req/s',
    better: 'higher',
    compare: 'default',
    description: 'completed requests per second',
    measure: (s) => s.rps,
  },
  {
    name: 'min',
    windowed: true,
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    description: 'fastest request',
    measure: (s) => s.latencyMs?.min ?? null,
  },
  {
    name: 'mean',
    windowed: true,
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    compare: 'opt-in',
    description: 'mean latency',
    measure: (s) => s.latencyMs?.mean ?? null,
  },
  {
    name: 'p',
    windowed: true,
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    description: 'latency at a percentile: p50, p75, p90, p95, p99, p999 (99.9) or p(N) for any N in (0, 100]',
    percentiles: {
      shorthands: [
        { name: 'p50', percentile: 50, compare: 'default' },
        { name: 'p75', percentile: 75 },
        { name: 'p90', percentile: 90, compare: 'opt-in' },
        { name: 'p95', percentile: 95, compare: 'default' },
        { name: 'p99', percentile: 99, compare: 'default' },
        { name: 'p999', percentile: 99.9, compare: 'opt-in' },
      ],
      written: 'p(N)',
      call: /^p\(\s*(\d+(?:\.\d+)?)\s*\)$/,
    },
    measure: (s, percentile) => (percentile === undefined ? null : s.percentileMs(percentile)),
  },
  {
    name: 'max',
    windowed: true,
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    compare: 'opt-in',
    description: 'slowest request',
    measure: (s) => s.latencyMs?.max ?? null,
  },
  {
    name: 'amplification',
    kind: 'factor',
    unit: 'calls/request',
    better: 'lower',
    chaos: true,
    description: 'chaos: dependency calls per request',
    measure: (s) => s.amplification ?? null,
  },
  {
    name: 'recovery',
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    chaos: true,
    description: 'chaos: longest time from the end of a fault window back to steady state',
    // Infinity when a window never recovered; null with no window.
    measure: (s) => (s.recovery ? worstRecoveryMs(s.recovery) : null),
    infinite: 'never recovered',
  },
  {
    name: 'dependency_calls',
    kind: 'count',
    unit: 'calls',
    better: 'higher',
    chaos: true,
    perProvider: true,
    description: 'chaos: dependency calls the proxies received and served (0 means no experiment took place)',
    measure: (s, _percentile, provider) => {
      if (!s.faults) return null;
      if (provider === undefined) return dependencyCalls(s.faults.providers);
      const stats = Object.hasOwn(s.faults.providers, provider) ? s.faults.providers[provider] : undefined;
      return stats ? dependencyCalls({ [provider]: stats }) : null;
    },
    // A chaos run that no dependency call reached proved nothing: say why and what to change.
    explain: (actual, s, provider) => {
      if (actual !== 0 || !s.chaos) return undefined;
      if (provider !== undefined) {
        const listen = Object.hasOwn(s.chaos.providers, provider) ? s.chaos.providers[provider]?.listen : undefined;
        return `no dependency call reached provider '${provider}'${listen ? ` (listening at ${listen})` : ''}`;
      }
      const run = { clientIsSubject: s.chaos.clientIsSubject ?? false, requests: s.requests.total, refused: s.errors.refused ?? 0 };
      return noCallNote(s.chaos.providers, run);
    },
  },
  ...STREAM_METRICS,
  ...BEHAVIOUR_METRICS,
];

/** Every metric, in the order lists show them (latency from fastest to slowest, as reports show it). */
export function thresholdMetrics(): readonly Metric[] {
  return METRICS;
}

/** The metric of a threshold or verdict by its registry name ('success_rate', 'p'), or undefined. */
export function metricNamed(name: string): Metric | undefined {
  return METRICS.find((metric) => metric.name === name);
}

/**
 * The metric a threshold names as written ('success_rate', 'p99', 'p(99.9)'), or undefined. The
 * percentile of the general form comes as written (`percentileText`): the parser checks its range.
 */
export function resolveMetricName(name: string): { metric: Metric; percentile?: number; percentileText?: string } | undefined {
  for (const metric of METRICS) {
    if (!metric.percentiles) {
      if (metric.name === name) return { metric };
      continue;
    }
    const shorthand = metric.percentiles.shorthands.find((s) => s.name === name);
    if (shorthand) return { metric, percentile: shorthand.percentile };
    const call = metric.percentiles.call.exec(name);
    if (call) return { metric, percentile: Number(call[1]), percentileText: call[1]! };
  }
  return undefined;
}

/** The metrics measured per second (live, abort, windows), for messages: 'success_rate', ..., 'p(N)', 'max'. */
export function windowedMetricNames(): string[] {
  return METRICS.filter((m) => m.windowed).map((m) => (m.percentiles ? 'pN' : m.name));
}

/** The metrics a threshold may qualify with a provider ('retries{openai}'), for messages. */
export function perProviderMetricNames(): string[] {
  return METRICS.filter((m) => m.perProvider).map((m) => m.name);
}

/** The names a threshold may use, for messages: 'success_rate', ..., 'p50', ..., 'p(N)'. */
export function knownMetricNames(): string[] {
  return METRICS.flatMap((m) => (m.percentiles ? [...m.percentiles.shorthands.map((s) => s.name), m.percentiles.written] : [m.name]));
}

/** The exact names a threshold may use, to suggest the closest to a mistyped one. */
export function suggestableMetricNames(): string[] {
  return METRICS.flatMap((m) => (m.percentiles ? m.percentiles.shorthands.map((s) => s.name) : [m.name]));
}

/** A metric as `resil report --baseline` compares it: by its written name, from the registry. */
export interface ComparedMetric {
  name: string;
  metric: Metric;
  percentile?: number;
  byDefault: boolean;
}

/** The metrics a comparison with a baseline may take: those compared by default first, in registry order. */
export function comparedMetrics(): ComparedMetric[] {
  const all = METRICS.flatMap((metric): ComparedMetric[] => {
    if (metric.percentiles) {
      const compared = metric.percentiles.shorthands.filter((s) => s.compare !== undefined);
      return compared.map((s) => ({ name: s.name, metric, percentile: s.percentile, byDefault: s.compare === 'default' }));
    }
    return metric.compare ? [{ name: metric.name, metric, byDefault: metric.compare === 'default' }] : [];
  });
  return [...all.filter((m) => m.byDefault), ...all.filter((m) => !m.byDefault)];
}

/**
 * A measured value as every report writes it, by its metric's kind: 97.00%, 310.0ms, 480/s, 1,300,
 * 1.30 calls/request (a factor with its unit); for null the metric's word for it ('n/a') or NO_DATA,
 * the metric's word for Infinity.
 */
export function formatMetric(metric: Metric, measured: number | null): string {
  if (measured === null || Number.isNaN(measured)) return metric.absent ?? NO_DATA;
  if (!Number.isFinite(measured)) return metric.infinite ?? NO_DATA;
  switch (metric.kind) {
    case 'ratio':
      return formatPercent(measured);
    case 'duration':
      return formatMs(measured);
    case 'rate':
      return formatRate(measured);
    case 'count':
      return formatCount(measured);
    case 'factor':
      return formatFactor(measured, metric.unit);
  }
}

/**
 * The thing a threshold judges, for deciding whether the user's thresholds replace a default: one
 * provider's calls ('dependency_calls{a}') are not every provider's.
 */
export function judges(name: string, percentile?: number, provider?: string): string {
  const metric = metricNamed(name);
  const judged = metric?.percentiles ? `${metric.name}(${percentile})` : (metric?.sameAs ?? name);
  return provider === undefined ? judged : `${judged}{${provider}}`;
}

/**
 * Why a threshold cannot judge a load run (no proxies, so no dependency calls, amplification or
 * recovery), or undefined when it can. `where` says how to make the run a chaos run.
 */
export function chaosOnlyProblem(source: string, metric: string, where: string): string | undefined {
  if (!metricNamed(metric)?.chaos) return undefined;
  return `threshold '${source}': ${metric} is measured by chaos runs only (${where}); a load run would always fail it with no data`;
}
