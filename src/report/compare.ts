import { UsageError } from '../errors.js';
import type { ResultDocument } from './result.js';

/** A compared figure: which way is better, and how to read it from a result. */
interface Metric {
  name: string;
  better: 'higher' | 'lower';
  read(document: ResultDocument): number | null;
}

const METRICS: readonly Metric[] = [
  { name: 'rps', better: 'higher', read: (d) => d.rps },
  { name: 'success_rate', better: 'higher', read: (d) => d.successRate },
  ...(['mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const).map(
    (key): Metric => ({ name: key, better: 'lower', read: (d) => d.latencyMs?.[key] ?? null }),
  ),
];

export interface Comparison {
  metric: string;
  baseline: number | null;
  current: number | null;
  /** Relative change, current vs baseline (0.12 = 12% more); null when it cannot be computed. */
  change: number | null;
  /** Allowed worsening, as a fraction. */
  allowed: number;
  regression: boolean;
}

/** '10%' for every metric, or 'p99=5%' for one (repeatable); returns metric → allowed fraction. */
export function parseMaxRegression(values: readonly string[]): { all: number; per: Record<string, number> } {
  const limits = { all: 0.1, per: {} as Record<string, number> };
  for (const value of values) {
    const match = /^(?:([a-z_0-9]+)=)?(\d+(?:\.\d+)?)%$/.exec(value.trim());
    if (!match) throw new UsageError(`--max-regression '${value}': expected a percent (10%) or METRIC=PERCENT (p99=5%)`);
    const fraction = Number(match[2]) / 100;
    if (match[1] === undefined) limits.all = fraction;
    else if (!METRICS.some((m) => m.name === match[1])) throw new UsageError(`--max-regression: unknown metric '${match[1]}' (known: ${METRICS.map((m) => m.name).join(', ')})`);
    else limits.per[match[1]] = fraction;
  }
  return limits;
}

/** Compares a result with a baseline, metric by metric; a worsening beyond the allowed share is a regression. */
export function compareResults(current: ResultDocument, baseline: ResultDocument, limits: { all: number; per: Record<string, number> }): Comparison[] {
  return METRICS.map((metric) => {
    const before = metric.read(baseline);
    const now = metric.read(current);
    const allowed = limits.per[metric.name] ?? limits.all;
    const change = before === null || now === null || before === 0 ? null : (now - before) / before;
    const worsening = change === null ? 0 : metric.better === 'higher' ? -change : change;
    return { metric: metric.name, baseline: before, current: now, change, allowed, regression: worsening > allowed };
  });
}
