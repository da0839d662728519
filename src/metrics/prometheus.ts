import { Counter, type Registry } from 'prom-client';
import hdr from 'hdr-histogram-js';
import { decodeHistogram } from './histogram.js';

/**
 * The pieces shared by the Prometheus output of a finished run (report/prometheus.ts, the textfile
 * collector format) and the live /metrics endpoint (metrics-server.ts): metric names' help, the
 * outcome and fault counters, and the latency histogram.
 *
 * Counters and gauges are prom-client's own. The latency histogram is not filled by observe(): its
 * buckets are read off the HDR histogram the run recorded, through `HdrHistogramMetric`, a metric
 * object the registry renders like any other (prom-client calls its `get()` and formats and escapes
 * the lines itself), so every line of the output comes out of prom-client.
 */

/** Upper bounds (seconds) of the latency histogram's buckets; +Inf is added. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface LatencyBuckets {
  /** Cumulative counts, one per bound of LATENCY_BUCKETS_SECONDS (values ≤ the bound). */
  cumulative: number[];
  count: number;
  /** Seconds: the histogram's mean × count. */
  sum: number;
}

/**
 * The Prometheus buckets of an encoded HDR histogram (microseconds). Exact at the histogram's
 * resolution: a recorded value counts as ≤ a bound when the lowest value of its HDR bucket is ≤ the
 * bound (HDR keeps values to 3 significant digits, so only values within 0.1% above a bound can be
 * counted in it); the bounds up to 2.048 ms are exact to the microsecond.
 */
export function latencyBuckets(encoded: string, bounds: readonly number[] = LATENCY_BUCKETS_SECONDS): LatencyBuckets {
  const histogram = decodeHistogram(encoded);
  try {
    const cumulative: number[] = bounds.map(() => 0);
    const count = histogram.totalCount;
    if (count > 0) {
      if (!(histogram instanceof hdr.JsHistogram)) throw new Error('latency histogram is not a JsHistogram');
      const boundsUs = bounds.map((seconds) => Math.round(seconds * 1_000_000));
      const iterator = histogram.recordedValuesIterator;
      iterator.reset();
      while (iterator.hasNext()) {
        const step = iterator.next();
        const lowest = histogram.lowestEquivalentValue(step.valueIteratedTo);
        const added = step.countAtValueIteratedTo;
        for (let i = boundsUs.length - 1; i >= 0 && lowest <= boundsUs[i]!; i--) cumulative[i]! += added;
      }
    }
    return { cumulative, count, sum: count === 0 ? 0 : (histogram.mean * count) / 1_000_000 };
  } finally {
    histogram.destroy();
  }
}

type LabelSet = Record<string, string>;

interface HistogramSeries {
  key: string;
  labels: LabelSet;
  buckets: LatencyBuckets;
}

/**
 * A histogram metric whose series are given whole (bucket counts, sum, count) rather than observed.
 * prom-client's registry renders any registered object with name, help, type and get(); this is one.
 */
export class HdrHistogramMetric {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: HistogramSeries[] = [];
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[] = LATENCY_BUCKETS_SECONDS,
  ) {}

  /**
   * Adds one labelled series (its buckets must use this metric's bounds). Adding the same labels
   * again adds the counts into that series, as a counter would.
   */
  add(labels: LabelSet, buckets: LatencyBuckets): void {
    if (buckets.cumulative.length !== this.bounds.length)
      throw new Error(`${this.name}: ${buckets.cumulative.length} buckets for ${this.bounds.length} bounds`);
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const existing = this.series.find((series) => series.key === key);
    if (existing === undefined) {
      this.series.push({ key, labels, buckets: { cumulative: buckets.cumulative.slice(), count: buckets.count, sum: buckets.sum } });
      return;
    }
    for (const [i, n] of buckets.cumulative.entries()) existing.buckets.cumulative[i]! += n;
    existing.buckets.count += buckets.count;
    existing.buckets.sum += buckets.sum;
  }

  reset(): void {
    this.series.length = 0;
  }

  async get() {
    const values: Array<{ value: number; labels: Record<string, string | number>; metricName: string }> = [];
    for (const { labels, buckets } of this.series) {
      for (const [i, le] of this.bounds.entries())
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: buckets.cumulative[i]! });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: buckets.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: buckets.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: buckets.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registers this metric with a prom-client registry (which takes it as one of its own). */
  registerIn(registry: Registry): this {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
    return this;
  }
}

/** Requests by outcome: `ok`, then each failure class or `status:NNN`, as the result counts them. */
export function outcomeCounts(ok: number, errors: Readonly<Record<string, number>>): Array<[string, number]> {
  return [['ok', ok], ...Object.entries(errors).filter(([, count]) => count > 0)];
}

export const HELP = {
  requests:
    'Requests made, by outcome: ok, a failure class (timeout, reset, refused, closed, body, tls, breaker, other) ' +
    'or status:NNN for an unexpected status.',
  dropped: 'Open model: requests of the schedule that were due but never sent (no connection free before sending stopped).',
  cancelled:
    'Requests sent that had no answer when the run ended (in flight when --grace ran out, or waiting in backoff at stop); ' +
    'counted as failed by the success ratio.',
  duration: 'Latency of complete responses, in seconds.',
  faults:
    "Dependency calls the chaos proxy faulted, by provider and fault type (outages of fault 'down' are counted in resil_outages_total).",
  outages:
    "Times the chaos proxy closed its listener for fault 'down', by provider; " +
    'the calls refused meanwhile never reach it and are not counted.',
} as const;

/**
 * The proxies' counts as two counters that each count one thing: faulted calls, and outages
 * (`down` closes the listener for a window, whatever the number of calls it refuses).
 */
export function faultCounters(
  registers: Registry[],
  labelNames: string[],
): (labels: LabelSet, injected: Readonly<Record<string, number>>) => void {
  const faults = new Counter({ name: 'resil_faults_injected_total', help: HELP.faults, labelNames: [...labelNames, 'type'], registers });
  const outages = new Counter({ name: 'resil_outages_total', help: HELP.outages, labelNames, registers });
  return (labels, injected) => {
    for (const [type, count] of Object.entries(injected)) {
      if (type === 'down') outages.inc(labels, count);
      else faults.inc({ ...labels, type }, count);
    }
  };
}
