import type { Threshold } from './parse.js';

/** What a threshold is evaluated against: figures in canonical units (ratios 0..1, ms, per second). */
export interface MetricSource {
  successRate: number | null;
  rps: number;
  latencyMs: { min: number; mean: number; max: number } | null;
  /** Latency at a percentile (0..100] in ms, or null when nothing was measured. */
  percentileMs(percentile: number): number | null;
  /** Chaos runs: dependency calls per request (null outside chaos). */
  amplification?: number | null;
  /**
   * Chaos runs: the longest recovery over the fault windows in ms; Infinity when a window never
   * recovered; null when there is nothing to measure (no windows).
   */
  recoveryMs?: number | null;
  /** Chaos runs: dependency calls the proxies received and served (null outside chaos). */
  dependencyCalls?: number | null;
}

export interface ThresholdVerdict {
  expression: string;
  ok: boolean;
  /** The measured value in the metric's canonical unit, or null when there was nothing to measure. */
  actual: number | null;
  default?: true;
  /** Why it failed and what to change, when resil knows (a chaos run no dependency call reached). */
  note?: string;
}

export function measure(threshold: Threshold, source: MetricSource): number | null {
  switch (threshold.metric) {
    case 'success_rate':
      return source.successRate;
    case 'error_rate':
      return source.successRate === null ? null : 1 - source.successRate;
    case 'rps':
      return source.rps;
    case 'mean':
    case 'min':
    case 'max':
      return source.latencyMs ? source.latencyMs[threshold.metric] : null;
    case 'p':
      return source.percentileMs(threshold.percentile!);
    case 'amplification':
      return source.amplification ?? null;
    case 'recovery':
      return source.recoveryMs ?? null;
    case 'dependency_calls':
      return source.dependencyCalls ?? null;
    default:
      return null;
  }
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
  }
}

/** Evaluates every threshold; a metric with no measurement fails (nothing proved). */
export function evaluateThresholds(thresholds: readonly Threshold[], source: MetricSource): ThresholdVerdict[] {
  return thresholds.map((threshold) => {
    const actual = measure(threshold, source);
    const ok = actual !== null && Number.isFinite(actual) && compare(actual, threshold.comparator, threshold.value);
    const verdict: ThresholdVerdict = { expression: threshold.source, ok, actual: actual === null || !Number.isFinite(actual) ? null : round(actual) };
    if (threshold.isDefault) verdict.default = true;
    return verdict;
  });
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
