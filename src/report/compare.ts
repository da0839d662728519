import Table from 'cli-table3';
import { UsageError } from '../errors.js';
import { decodeHistogram, type Histogram } from '../metrics/histogram.js';
import type { MetricKind, ResultDocument, ScenarioResult } from '../model/result.js';
import { documentSource } from '../thresholds/evaluate.js';
import type { Metric } from '../thresholds/metric.js';
import { comparedMetrics, formatMetric } from '../thresholds/metrics.js';
import { tryParseDuration } from '../util/duration.js';
import { formatMs } from '../util/format.js';
import { attemptedRequests } from './result.js';

/**
 * `resil report NEW --baseline OLD`: is the new run worse than the old one, beyond noise?
 *
 * A metric is a regression only when its worsening passes every test that applies to it:
 * - relative: worse by more than --max-regression (default 10%; latency and rps);
 * - absolute: worse by more than --min-change (default 1 ms for latency; 0.5 percentage points for
 *   the success rate; rps in the closed model: the time per request per connection, connections ÷
 *   rps, grew by more than the latency floor, unless a floor in req/s is set);
 * - chance: the current figure's 95% interval and the baseline's do not overlap (percentiles from
 *   the ranks of the requests in the histogram, the success rate from Wilson's interval, closed-model
 *   rps from the spread of the latencies; the requests in flight together count as one observation,
 *   since a pause of the machine delays them all).
 * So a tail percentile of a few hundred requests, or a run in which the machine paused, passes; a
 * service twice as slow does not. A machine busier through the whole of one run than the other is
 * beyond what one run can tell: --max-regression and --min-change are there for it.
 */

/**
 * A compared figure: a metric of the threshold registry (how to measure and write it, which way is
 * better; the registry says which are compared by default), and its 95% interval where sampling
 * tells it. Ratios (the success rate) are compared in percentage points, the rest relatively.
 */
export interface ComparedMetric {
  name: string;
  kind: MetricKind;
  /** The unit values are read in: 'ratio' (0..1), 'ms', 'req/s'. */
  unit: string;
  better: 'higher' | 'lower';
  /** Compared unless asked for; the others are opt-in with --metrics (noisy, or redundant). */
  byDefault: boolean;
  read(document: ResultDocument): number | null;
  format(value: number): string;
  /** The figure's 95% interval in this run, where sampling tells it; null when it cannot. */
  interval?(document: ResultDocument): Interval;
}

type Interval = [low: number, high: number] | null;

const METRICS: readonly ComparedMetric[] = comparedMetrics().map(({ name, metric, percentile, byDefault }) => ({
  name,
  kind: metric.kind,
  unit: metric.unit,
  better: metric.better,
  byDefault,
  read: (document: ResultDocument) => metric.measure(documentSource(document), percentile),
  format: (value: number) => formatMetric(metric, value),
  ...intervalOf(metric, percentile),
}));
const NAMES = METRICS.map((m) => m.name).join(', ');

/**
 * How sampling bounds a compared figure: a ratio (the success rate) by Wilson's interval, a rate (the
 * throughput) from the spread of the latencies, a latency percentile from the ranks of the requests.
 */
function intervalOf(metric: Metric, percentile: number | undefined): Pick<ComparedMetric, 'interval'> {
  if (metric.kind === 'ratio') return { interval: wilson };
  if (metric.kind === 'rate') return { interval: rpsInterval };
  if (percentile !== undefined) return { interval: (document) => percentileInterval(document, percentile) };
  return {};
}

/** Two-sided 95% intervals. */
const Z = 1.96;

export interface CompareSettings {
  /** Metrics compared, in table order. */
  metrics: readonly ComparedMetric[];
  /** Allowed relative worsening per metric (latency, rps), as a fraction. */
  relative: Record<string, number>;
  /** Worsening that is never a regression, per metric: ms (latency), req/s (rps, when set), fraction (success rate). */
  absolute: Record<string, number>;
  /** rps in the closed model without its own floor: the latency floor applied to time per request per connection, ms. */
  rpsFloorMs: number;
}

/** Parses --max-regression, --min-change and --metrics; every mistake is a usage error naming it. */
export function parseCompareSettings(flags: {
  maxRegression: readonly string[];
  minChange: readonly string[];
  metrics: readonly string[];
}): CompareSettings {
  const extra = new Set(flags.metrics.flatMap((v) => v.split(',')).map((name) => comparedMetricNamed('--metrics', name.trim())));
  const settings: CompareSettings = {
    metrics: METRICS.filter((m) => m.byDefault || extra.has(m)),
    relative: {},
    absolute: {},
    rpsFloorMs: 1,
  };

  let relativeAll = 0.1;
  for (const value of flags.maxRegression) {
    const match = /^(?:([a-z_0-9]+)=)?(\d+(?:\.\d+)?)%$/.exec(value.trim());
    if (!match) throw new UsageError(`--max-regression '${value}': expected a percent (10%) or METRIC=PERCENT (p99=5%)`);
    const fraction = Number(match[2]) / 100;
    if (match[1] === undefined) relativeAll = fraction;
    else {
      const metric = comparedMetricNamed('--max-regression', match[1]);
      if (metric.kind === 'ratio')
        throw new UsageError(`--max-regression: ${metric.name} is compared in percentage points; use --min-change ${metric.name}=0.5%`);
      settings.relative[metric.name] = fraction;
    }
  }

  let latencyFloorMs = 1;
  const latencyFloors: Record<string, number> = {};
  for (const value of flags.minChange) {
    const [name, text] = value.includes('=') ? (value.split('=', 2) as [string, string]) : [undefined, value];
    const metric = name === undefined ? undefined : comparedMetricNamed('--min-change', name.trim());
    const kind = metric?.kind ?? 'duration';
    const amount = parseAmount(kind, text.trim());
    if (amount === undefined) {
      // The one rate compared is the throughput.
      const expected =
        kind === 'duration' ? 'a duration (1ms, 500us)' : kind === 'ratio' ? 'percentage points (0.5%)' : 'requests per second (50)';
      throw new UsageError(
        `--min-change '${value}': expected ${expected}${metric ? '' : ", or METRIC=VALUE ('p99=5ms', 'rps=50', 'success_rate=0.5%')"}`,
      );
    }
    if (metric) (metric.kind === 'duration' ? latencyFloors : settings.absolute)[metric.name] = amount;
    else latencyFloorMs = amount;
  }

  for (const metric of METRICS) {
    if (metric.kind === 'ratio') settings.absolute[metric.name] ??= 0.005;
    else settings.relative[metric.name] ??= relativeAll;
    if (metric.kind === 'duration') settings.absolute[metric.name] = latencyFloors[metric.name] ?? latencyFloorMs;
  }
  settings.rpsFloorMs = latencyFloorMs;
  return settings;
}

function comparedMetricNamed(flag: string, name: string): ComparedMetric {
  const metric = METRICS.find((m) => m.name === name);
  if (!metric) throw new UsageError(`${flag}: unknown metric '${name}' (known: ${NAMES})`);
  return metric;
}

/** A floor in the metric's unit: ms for a duration, a fraction for a ratio ('0.5%' → 0.005), else a plain number (req/s). */
function parseAmount(kind: MetricKind, text: string): number | undefined {
  if (kind === 'duration') return tryParseDuration(text);
  if (kind === 'ratio') {
    const match = /^(\d+(?:\.\d+)?)%$/.exec(text);
    return match ? Number(match[1]) / 100 : undefined;
  }
  return /^\d+(?:\.\d+)?$/.test(text) ? Number(text) : undefined;
}

export interface MetricComparison {
  metric: string;
  baseline: number | null;
  current: number | null;
  /** Latency and rps: relative change (0.12 = 12% more). Success rate: the difference, a fraction (-0.004 = 0.4 points less). */
  change: number | null;
  regression: boolean;
  /** Why it is not a regression: 'same', 'better', 'within 10%', 'under 1ms', 'within noise', 'no data'; '' for a regression. */
  note: string;
}

export interface ScenarioComparison {
  scenario: string;
  /** 'missing': in the baseline, not in the current result (a failure); 'new': no baseline to compare with. */
  status: 'compared' | 'missing' | 'new';
  metrics: MetricComparison[];
}

/**
 * Compares the scenarios of a result with those of a baseline, matched by name (one result against
 * one result are compared whatever their command). A scenario the current result lacks is a failure.
 */
export function compareScenarios(
  current: readonly ScenarioResult[],
  baseline: readonly ScenarioResult[],
  settings: CompareSettings,
): ScenarioComparison[] {
  if (current.length === 1 && baseline.length === 1) {
    // Two scenarios of other names measure other things: any verdict on them would be noise. In CI
    // that is a mis-wired baseline artifact, so it is refused as bad input (exit 2, the action's
    // verdict 'error'), neither passed (exit 0 hides it) nor called a regression (exit 1 misleads).
    const [now, before] = [current[0]!, baseline[0]!];
    if (now.document.scenario !== undefined && before.document.scenario !== undefined && now.name !== before.name) {
      throw new UsageError(
        `--baseline: comparing scenario '${now.name}' against baseline scenario '${before.name}' says nothing; ` +
          `give a baseline of '${now.name}' (resil run CAMPAIGN --scenario ${now.name} --out FILE.json)`,
      );
    }
    return [
      { scenario: current[0]!.name, status: 'compared', metrics: compareResults(current[0]!.document, baseline[0]!.document, settings) },
    ];
  }
  const rows: ScenarioComparison[] = [];
  for (const { name, document } of current) {
    const before = baseline.find((s) => s.name === name);
    rows.push(
      before
        ? { scenario: name, status: 'compared', metrics: compareResults(document, before.document, settings) }
        : { scenario: name, status: 'new', metrics: [] },
    );
  }
  for (const { name } of baseline) {
    if (!current.some((s) => s.name === name)) rows.push({ scenario: name, status: 'missing', metrics: [] });
  }
  return rows;
}

/** True when the comparison calls for exit 1: a regression, or a baseline scenario not in the result. */
export function comparisonFailed(rows: readonly ScenarioComparison[]): boolean {
  return rows.some((row) => row.status === 'missing' || row.metrics.some((m) => m.regression));
}

/** One result against its baseline, metric by metric. */
export function compareResults(current: ResultDocument, baseline: ResultDocument, settings: CompareSettings): MetricComparison[] {
  return settings.metrics.map((metric) => {
    const before = metric.read(baseline);
    const now = metric.read(current);
    const row = { metric: metric.name, baseline: before, current: now };
    if (before === null || now === null) return { ...row, change: null, regression: false, note: 'no data' };
    const change = metric.kind === 'ratio' ? now - before : before === 0 ? null : (now - before) / before;
    const worsening = metric.better === 'lower' ? now - before : before - now;
    const allowed = settings.relative[metric.name];
    let note = '';
    if (worsening <= 0) note = worsening === 0 ? 'same' : 'better';
    else if (allowed !== undefined && change !== null && Math.abs(change) <= allowed) note = `within ${percent(allowed)}`;
    else note = underFloor(metric, worsening, current, baseline, settings);
    if (note === '' && metric.interval && overlap(metric.interval(baseline), metric.interval(current))) note = 'within noise';
    return { ...row, change, regression: note === '', note };
  });
}

/** The absolute test: why the worsening is too small to count, or '' when it is not. */
function underFloor(
  metric: ComparedMetric,
  worsening: number,
  current: ResultDocument,
  baseline: ResultDocument,
  settings: CompareSettings,
): string {
  const floor = settings.absolute[metric.name];
  if (metric.kind === 'duration') return worsening <= floor! ? `under ${formatMs(floor!)}` : '';
  if (metric.kind === 'ratio') return worsening <= floor! ? `under ${points(floor!)}` : '';
  if (floor !== undefined) return worsening <= floor ? `under ${floor} ${metric.unit}` : '';
  // The rate compared is the throughput. Closed model, Little's law: connections ÷ rps is the time
  // each request took per connection.
  if (metric.kind !== 'rate' || current.model !== 'closed' || baseline.model !== 'closed' || current.rps === 0) return '';
  const perRequestMs = (d: ResultDocument) => (d.settings.concurrency / d.rps) * 1000;
  return perRequestMs(current) - perRequestMs(baseline) <= settings.rpsFloorMs ? `under ${formatMs(settings.rpsFloorMs)} per request` : '';
}

/** Both known and overlapping; an unknown interval leaves the verdict to the other tests. */
function overlap(a: Interval, b: Interval): boolean {
  return a !== null && b !== null && a[0] <= b[1] && b[0] <= a[1];
}

/**
 * How many independent observations a run's n requests are worth. Requests in flight together share
 * the machine's pauses (a GC, a busy neighbour), so they come in clusters of up to `concurrency`;
 * counting each cluster once (the largest design effect) keeps a pause from reading as a change.
 */
function observations(document: ResultDocument, n: number): number {
  return Math.max(1, n / Math.max(1, document.settings.concurrency));
}

/** Wilson's 95% interval of the success rate. */
function wilson(document: ResultDocument): Interval {
  const n = attemptedRequests(document.requests);
  if (n === 0) return null;
  return wilsonBounds(document.requests.ok / n, observations(document, n));
}

/** Wilson's score interval of a proportion p seen in n observations: sound for p near 0 or 1 and small n. */
function wilsonBounds(p: number, n: number): [number, number] {
  const z2 = Z * Z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * 95% interval of the closed model's rps. Throughput there is connections ÷ mean latency, so it is
 * as uncertain as the mean: relative error 1.96·(sd/mean)/sqrt(n). The open model's rps is its
 * schedule: no interval.
 */
function rpsInterval(document: ResultDocument): Interval {
  if (document.model !== 'closed') return null;
  return withHistogram(document, (histogram) => {
    if (histogram.mean === 0) return null;
    const relative = (Z * (histogram.stdDeviation / histogram.mean)) / Math.sqrt(observations(document, histogram.totalCount));
    return [document.rps * (1 - relative), document.rps * (1 + relative)];
  });
}

/**
 * 95% interval of a latency percentile, distribution-free: the share of observations below the
 * q-quantile is a proportion, so its interval is Wilson's for q among n; the percentile's interval
 * runs between the values at those two ranks, read from the run's histogram (ms).
 */
function percentileInterval(document: ResultDocument, percentile: number): Interval {
  return withHistogram(document, (histogram) => {
    const [low, high] = wilsonBounds(percentile / 100, observations(document, histogram.totalCount));
    return [histogram.getValueAtPercentile(low * 100) / 1000, histogram.getValueAtPercentile(high * 100) / 1000];
  });
}

/** Runs `read` on the run's latency histogram (null when it holds no request). */
function withHistogram(document: ResultDocument, read: (histogram: Histogram) => Interval): Interval {
  if (!document.histograms?.latency) return null;
  const histogram = decodeHistogram(document.histograms.latency);
  try {
    return histogram.totalCount === 0 ? null : read(histogram);
  } finally {
    histogram.destroy();
  }
}

/** The comparison as the terminal shows it: one row per scenario and metric, and the verdict. */
export function renderComparison(rows: readonly ScenarioComparison[]): string {
  const named = rows.length > 1 || rows.some((r) => r.status !== 'compared');
  const table = new Table({
    head: [...(named ? ['scenario'] : []), 'metric', 'baseline', 'current', 'change', 'verdict'],
    style: { head: [], border: [], compact: true },
  });
  for (const row of rows) {
    if (row.status !== 'compared') {
      table.push([
        row.scenario,
        {
          colSpan: 5,
          content: row.status === 'missing' ? 'MISSING: in the baseline, not in this result' : 'new: no baseline to compare with',
        },
      ]);
      continue;
    }
    for (const m of row.metrics) {
      table.push([
        ...(named ? [row.scenario] : []),
        m.metric,
        show(m, m.baseline),
        show(m, m.current),
        showChange(m),
        m.regression ? 'REGRESSION' : m.note === 'no data' ? m.note : m.note === 'same' ? 'ok' : `ok (${m.note})`,
      ]);
    }
  }
  const problems = rows.flatMap((row) => {
    if (row.status === 'missing') return [`scenario '${row.scenario}' missing`];
    const worse = row.metrics.filter((m) => m.regression).map((m) => m.metric);
    return worse.length === 0 ? [] : [named ? `${worse.join(', ')} in '${row.scenario}'` : worse.join(', ')];
  });
  const verdict = problems.length === 0 ? 'no regression beyond the allowed change' : `regression: ${problems.join('; ')}`;
  return `${table.toString()}\n${verdict}\n`;
}

/** The compared metric a row is about (rows carry its name, as the JSON output does). */
function metricOf(m: MetricComparison): ComparedMetric {
  return METRICS.find((metric) => metric.name === m.metric)!;
}

function show(m: MetricComparison, value: number | null): string {
  return value === null ? '-' : metricOf(m).format(value);
}

/** A ratio's change in percentage points; another's relative, and for a duration the difference too. */
function showChange(m: MetricComparison): string {
  if (m.change === null || m.baseline === null || m.current === null) return '-';
  const { kind } = metricOf(m);
  if (kind === 'ratio') return `${m.change >= 0 ? '+' : ''}${(m.change * 100).toFixed(2)} pts`;
  const relative = `${m.change >= 0 ? '+' : ''}${(m.change * 100).toFixed(1)}%`;
  if (kind !== 'duration') return relative;
  const delta = m.current - m.baseline;
  return `${relative} (${delta >= 0 ? '+' : '-'}${formatMs(Math.abs(delta))})`;
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))}%`;
}

function points(fraction: number): string {
  return `${Number((fraction * 100).toFixed(3))} pts`;
}
