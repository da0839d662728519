import { Counter, Gauge, type Registry } from 'prom-client';
import hdr from 'hdr-histogram-js';
import {
  attemptsMax,
  attemptsMean,
  breakerCloseAfter,
  breakerOpenAfter,
  breakerProbes,
  dependencyTimeoutMax,
  retryStorm,
} from '../behaviour/measure.js';
import type { ProviderBehaviour } from '../model/behaviour.js';
import { decodeHistogram } from './histogram.js';
import type { StreamSnapshot } from './snapshot.js';

/**
 * The pieces shared by the Prometheus output of a finished run (report/prometheus.ts, the textfile
 * collector format) and the live /metrics endpoint (metrics-server.ts): metric names' help, the
 * outcome and fault counters, the latency histogram, and the dependency behaviour per provider.
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
    'Requests made, by outcome: ok, a failure class (timeout, reset, refused, closed, body, stream, tls, breaker, other) ' +
    'or status:NNN for an unexpected status.',
  dropped: 'Open model: requests of the schedule that were due but never sent (no connection free before sending stopped).',
  cancelled:
    'Requests sent that had no answer when the run ended (in flight when --grace ran out, or waiting in backoff at stop); ' +
    'counted as failed by the success ratio.',
  duration: 'Latency of complete responses, in seconds.',
  faults:
    'Dependency calls the chaos proxy decided to fault, by provider and fault type (outages of fault ' +
    "'down' are counted in resil_outages_total; faults that did not apply to their answer are also in resil_faults_not_applicable_total).",
  notApplicable:
    'Faults the chaos proxy decided on that did not apply to their answer (stream-error on no event stream, stall with nothing ' +
    'after its cut, truncate on an empty body), by provider and fault type: the answer passed unchanged.',
  outages:
    "Times the chaos proxy closed its listener for fault 'down', by provider; " +
    'the calls refused meanwhile never reach it and are not counted.',
  halted: '1 while the chaos proxy is halted (a halt condition, or POST /halt): it injects nothing and passes every call through.',
  withheld: 'Faults the chaos proxy drew but did not inject, by provider and fault type: it was halted, or its fault budget was spent.',
} as const;

/**
 * Streamed answers (content-type text/event-stream): resil_streams_total, resil_stream_data_events_total,
 * and histograms of ttft (request start to first data event) and of the gaps between data events, read
 * off the HDR histograms the run recorded (exact, as the latency one).
 */
export function streamMetrics(registry: Registry, labelNames: string[]): (labels: LabelSet, streams: StreamSnapshot) => void {
  const registers = [registry];
  const streams = new Counter({
    name: 'resil_streams_total',
    help: 'Answers with content-type text/event-stream (in policy mode, per attempt).',
    labelNames,
    registers,
  });
  const events = new Counter({
    name: 'resil_stream_data_events_total',
    help: 'Data events received in streamed answers (events with a data field; error events not included).',
    labelNames,
    registers,
  });
  const ttft = new HdrHistogramMetric(
    'resil_stream_ttft_seconds',
    "Streams: from the request's start (as its latency) to the first data event, in seconds.",
  ).registerIn(registry);
  const gap = new HdrHistogramMetric(
    'resil_stream_event_gap_seconds',
    'Streams: between consecutive data events of one stream, in seconds.',
  ).registerIn(registry);
  return (labels, figures) => {
    streams.inc(labels, figures.streams);
    events.inc(labels, figures.dataEvents);
    ttft.add(labels, latencyBuckets(figures.ttft));
    gap.add(labels, latencyBuckets(figures.eventGap));
  };
}

/**
 * Each proxy's guard rails: resil_proxy_halted (1 while a halt condition or POST /halt keeps it from
 * injecting) and resil_faults_withheld_total (faults drawn but not injected: halted, or over budget).
 */
export function guardMetrics(
  registers: Registry[],
  labelNames: string[],
): (labels: LabelSet, guard: { halted: boolean; withheld: Readonly<Record<string, number>> }) => void {
  const halted = new Gauge({ name: 'resil_proxy_halted', help: HELP.halted, labelNames, registers });
  const withheld = new Counter({
    name: 'resil_faults_withheld_total',
    help: HELP.withheld,
    labelNames: [...labelNames, 'type'],
    registers,
  });
  return (labels, guard) => {
    halted.set(labels, guard.halted ? 1 : 0);
    for (const [type, count] of Object.entries(guard.withheld)) withheld.inc({ ...labels, type }, count);
  };
}

/** A proxy's fault counts as FaultCounters reads them: injected, and those that then did not apply. */
export interface FaultCountsView {
  injected: Readonly<Record<string, number>>;
  notApplicable?: Readonly<Record<string, number>>;
}

/**
 * The proxies' counts as counters that each count one thing: faults decided on (a counter never goes
 * down, so one that later finds it did not apply to its answer stays in it, and is also counted in
 * resil_faults_not_applicable_total), and outages (`down` closes the listener for a window, whatever
 * the number of calls it refuses).
 */
export function faultCounters(registers: Registry[], labelNames: string[]): (labels: LabelSet, counts: FaultCountsView) => void {
  const faults = new Counter({ name: 'resil_faults_injected_total', help: HELP.faults, labelNames: [...labelNames, 'type'], registers });
  const notApplicable = new Counter({
    name: 'resil_faults_not_applicable_total',
    help: HELP.notApplicable,
    labelNames: [...labelNames, 'type'],
    registers,
  });
  const outages = new Counter({ name: 'resil_outages_total', help: HELP.outages, labelNames, registers });
  return (labels, counts) => {
    for (const [type, count] of Object.entries(counts.injected)) {
      if (type === 'down') outages.inc(labels, count);
      else faults.inc({ ...labels, type }, count);
    }
    for (const [type, count] of Object.entries(counts.notApplicable ?? {})) {
      faults.inc({ ...labels, type }, count);
      notApplicable.inc({ ...labels, type }, count);
    }
  };
}

/**
 * One provider's dependency behaviour (labels: `labelNames` and `provider`) as metrics named
 * resil_dependency_*: counters of what the service did (calls, retries, Retry-After violations...),
 * its delays as histograms read off the HDR histograms the result keeps (exact, as the latency one),
 * and gauges for what is judged per request or per fault window (attempts, breaker, retry storm). A
 * figure whose situation never arose is left out; one that never came (a breaker that never opened,
 * a held call never given up) is +Inf. Measured as the threshold metrics measure them.
 */
export function dependencyMetrics(registry: Registry, labelNames: string[]): (labels: LabelSet, behaviour: ProviderBehaviour) => void {
  const registers = [registry];
  const names = [...labelNames, 'provider'];
  const counter = (name: string, help: string) =>
    new Counter({ name: `resil_dependency_${name}_total`, help, labelNames: names, registers });
  const gauge = (name: string, help: string) => new Gauge({ name: `resil_dependency_${name}`, help, labelNames: names, registers });
  const histogram = (name: string, help: string) => new HdrHistogramMetric(`resil_dependency_${name}_seconds`, help).registerIn(registry);

  const counts: Array<[Counter, (b: ProviderBehaviour) => number]> = [
    [counter('calls', 'Dependency calls the chaos proxy received, by provider.'), (b) => b.calls],
    [counter('retries', 'Dependency calls that were not the first attempt of their request.'), (b) => b.retries],
    [
      counter('retry_after_violations', 'Retries to the same provider sent sooner than the Retry-After the proxy had sent.'),
      (b) => b.retryAfter.violations,
    ],
    [counter('non_retryable_retries', 'Retries after a 400, 401, 403, 404, 409, 422 or 501.'), (b) => b.nonRetryable.retries],
    [counter('unsafe_retries', 'Retries of POST or PATCH calls that carried no Idempotency-Key.'), (b) => b.unsafeRetries],
    [counter('failovers', 'Attempts at this provider that followed a failed attempt at another.'), (b) => b.failover.count],
    [counter('timeouts_held', "Calls the chaos proxy held (fault 'timeout')."), (b) => b.timeouts.held],
  ];
  const delays: Array<[HdrHistogramMetric, (b: ProviderBehaviour) => string | null]> = [
    [histogram('retry_delay', "Each retry's delay: from the previous attempt's end to its arrival, in seconds."), (b) => b.retryDelay],
    [
      histogram('failover_delay', "From a failed attempt at another provider to the same request's attempt at this one, in seconds."),
      (b) => b.failover.delay,
    ],
    [
      histogram('timeout', "How long the service waited on a call the proxy held (fault 'timeout') before giving up, in seconds."),
      (b) => b.timeouts.waited,
    ],
  ];
  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  const figures: Array<[Gauge, (b: ProviderBehaviour) => number | null]> = [
    [gauge('attempts_max', 'The most calls one logical request took at this provider.'), attemptsMax],
    [gauge('attempts_mean', 'Calls per logical request at this provider, on average.'), attemptsMean],
    [
      gauge('timeout_max_seconds', 'The longest wait on a held call before giving up; +Inf when one was still waited on at the end.'),
      (b) => seconds(dependencyTimeoutMax(b)),
    ],
    [
      gauge(
        'breaker_open_after_seconds',
        'In a fault window failing every call, from its start until calls fell below 10% of the rate before it (the slowest window); +Inf: never.',
      ),
      (b) => seconds(breakerOpenAfter(b)),
    ],
    [
      gauge(
        'breaker_probes_per_second',
        'Calls per second while the provider stayed failed, once calls had fallen off (half-open probes).',
      ),
      breakerProbes,
    ],
    [
      gauge(
        'breaker_close_after_seconds',
        "From a failing window's end until calls returned to 90% of the rate before it (the slowest window); +Inf: never.",
      ),
      (b) => seconds(breakerCloseAfter(b)),
    ],
    [gauge('retry_storm_ratio', 'Per fault window, calls per second inside it ÷ before it (the largest).'), retryStorm],
  ];

  return (labels, behaviour) => {
    for (const [metric, count] of counts) metric.inc(labels, count(behaviour));
    for (const [metric, encoded] of delays) {
      const histogram = encoded(behaviour);
      if (histogram !== null) metric.add(labels, latencyBuckets(histogram));
    }
    for (const [metric, figure] of figures) {
      const value = figure(behaviour);
      if (value !== null) metric.set(labels, value);
    }
  };
}
