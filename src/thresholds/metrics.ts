/**
 * The metrics a threshold may name, and how a value for each is written.
 * `ratio` takes 0.95 or 95%; `duration` takes 300ms, 1s, 250us (a bare number is ms, as in k6);
 * `number` takes a plain number.
 */
export type MetricKind = 'ratio' | 'duration' | 'number';

export interface MetricSpec {
  kind: MetricKind;
  description: string;
}

export const THRESHOLD_METRICS: Readonly<Record<string, MetricSpec>> = {
  success_rate: { kind: 'ratio', description: 'share of requests that passed every check' },
  error_rate: { kind: 'ratio', description: 'share of requests that failed' },
  rps: { kind: 'number', description: 'completed requests per second' },
  mean: { kind: 'duration', description: 'mean latency' },
  min: { kind: 'duration', description: 'fastest request' },
  max: { kind: 'duration', description: 'slowest request' },
  amplification: { kind: 'number', description: 'chaos: dependency calls per request' },
  recovery: { kind: 'duration', description: 'chaos: longest time from the end of a fault window back to steady state' },
  dependency_calls: { kind: 'number', description: 'chaos: dependency calls the proxies received and served (0 means no experiment took place)' },
  // Percentiles: p50, p90, p95, p99, p999 and the general p(N) form, all of kind 'duration'.
};

export const PERCENTILE_SHORTHANDS: Readonly<Record<string, number>> = {
  p50: 50,
  p75: 75,
  p90: 90,
  p95: 95,
  p99: 99,
  p999: 99.9,
};

/**
 * Metrics that judge the same thing: a user's threshold on one replaces a default on any of them
 * (`error_rate<5%` replaces the default `success_rate>=0.9`).
 */
const SAME_AS: Readonly<Record<string, string>> = { error_rate: 'success_rate' };

/** The thing a threshold judges, for deciding whether the user's thresholds replace a default. */
export function judges(metric: string, percentile?: number): string {
  if (metric === 'p') return `p(${percentile})`;
  return SAME_AS[metric] ?? metric;
}

export function knownMetricNames(): string[] {
  return [...Object.keys(THRESHOLD_METRICS), ...Object.keys(PERCENTILE_SHORTHANDS), 'p(N)'];
}
