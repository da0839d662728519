import { createLatencyHistogram, decodeHistogram, type Histogram, type LatencySummaryMs } from '../metrics/histogram.js';
import { compare, type WorstWindow } from './evaluate.js';
import type { Metric, MetricSource } from './metric.js';
import { formatMetric, metricNamed } from './metrics.js';
import type { Threshold } from './parse.js';

/** A closed second of the run (all threads' counts merged), as the engine feeds it: in order of `t`, from 0. */
export interface ClosedSecond {
  t: number;
  requests: number;
  ok: number;
  /** Encoded HDR histogram (µs) of the second's latencies, or null. */
  histogram: string | null;
  /** How much of the second the run covered (ms): 1000, less for the last one. */
  lengthMs: number;
}

/** Why a run stopped early: the threshold that failed while it went on, when (ms from the start) and its value then. */
export interface ThresholdAbort {
  threshold: string;
  atMs: number;
  actual: number | null;
  formatted: string;
}

/** Counts and latencies of a stretch of seconds; a window forgets its oldest second as a new one comes. */
class Stretch {
  requests = 0;
  ok = 0;
  lengthMs = 0;
  readonly histogram: Histogram = createLatencyHistogram();
  /** Window only: the seconds it holds (their histograms encoded, decoded once more when they leave). */
  readonly seconds: ClosedSecond[] = [];
  /** Values measured since the last second came, by metric and percentile: thresholds on the same figure share one lookup. */
  private readonly measured = new Map<string, number | null>();

  constructor(private readonly capacity: number) {}

  /** `latency`: the second's histogram decoded (once for every stretch). */
  add(second: ClosedSecond, latency: Histogram | null): void {
    this.measured.clear();
    this.requests += second.requests;
    this.ok += second.ok;
    this.lengthMs += second.lengthMs;
    if (latency !== null) this.histogram.add(latency);
    if (this.capacity === 0) return;
    this.seconds.push(second);
    if (this.seconds.length > this.capacity) this.remove(this.seconds.shift()!);
  }

  get full(): boolean {
    return this.seconds.length === this.capacity;
  }

  get startMs(): number {
    return (this.seconds[0]?.t ?? 0) * 1000;
  }

  /** A per-second metric's value on this stretch (a percentile lookup walks the histogram: done once per second). */
  measure(metric: Metric, percentile: number | undefined): number | null {
    const key = `${metric.name}(${percentile})`;
    if (this.measured.has(key)) return this.measured.get(key)!;
    const value = metric.measure(this.source(), percentile);
    this.measured.set(key, value);
    return value;
  }

  /** The figures the per-second metrics are measured on (registry entries marked `windowed`). */
  private source(): MetricSource {
    const { histogram } = this;
    const empty = histogram.totalCount === 0;
    const latencyMs = empty
      ? null
      : ({
          get min() {
            return histogram.minNonZeroValue / 1000;
          },
          get mean() {
            return histogram.mean / 1000;
          },
          get max() {
            return histogram.maxValue / 1000;
          },
        } as LatencySummaryMs);
    // Only the fields a `windowed` metric reads (see Metric.windowed).
    return {
      successRate: this.requests > 0 ? this.ok / this.requests : null,
      rps: this.lengthMs > 0 ? this.requests / (this.lengthMs / 1000) : 0,
      latencyMs,
      percentileMs: (p: number) => (empty ? null : histogram.getValueAtPercentile(p) / 1000),
    } as unknown as MetricSource;
  }

  destroy(): void {
    this.histogram.destroy();
  }

  private remove(second: ClosedSecond): void {
    this.requests -= second.requests;
    this.ok -= second.ok;
    this.lengthMs -= second.lengthMs;
    if (second.histogram !== null) {
      const old = decodeHistogram(second.histogram);
      this.histogram.subtract(old);
      old.destroy();
    }
  }
}

/**
 * Judges the thresholds on per-second metrics while the run goes on, from the seconds closed so far:
 * the whole run so far, and for `over` thresholds every full window of their length (the worst kept).
 * It decides when an `abort` threshold stops the run. Memory: one histogram for the run, one per
 * window length, and the encoded seconds of the longest window; nothing per request.
 */
export class ThresholdWatch {
  private readonly run = new Stretch(0);
  private readonly windows = new Map<number, Stretch>();
  private readonly worst = new Map<Threshold, WorstWindow>();
  private readonly judged: Threshold[];
  private elapsedMs = 0;
  /** The first abort threshold that failed after its delay; set once. */
  abort: ThresholdAbort | undefined;
  /** The thresholds failing as of the last second (whole run so far, or worst window so far). */
  failing: string[] = [];

  constructor(thresholds: readonly Threshold[]) {
    this.judged = thresholds.filter((t) => metricNamed(t.metric)?.windowed);
    for (const { windowMs } of this.judged) {
      const seconds = windowMs === undefined ? 0 : windowMs / 1000;
      if (seconds > 0 && !this.windows.has(seconds)) this.windows.set(seconds, new Stretch(seconds));
    }
  }

  /** True when some threshold is judged per second (else the engine need not feed it). */
  get active(): boolean {
    return this.judged.length > 0;
  }

  /**
   * Takes the next closed second and judges every threshold; returns the abort when this second caused
   * it. `mayAbort` false: a second closed by the run's end, judged but never an abort.
   */
  add(second: ClosedSecond, mayAbort = true): ThresholdAbort | undefined {
    this.elapsedMs = second.t * 1000 + second.lengthMs;
    const latency = second.histogram === null ? null : decodeHistogram(second.histogram);
    this.run.add(second, latency);
    for (const window of this.windows.values()) window.add(second, latency);
    latency?.destroy();
    const hadAbort = this.abort !== undefined;
    const failing: string[] = [];
    for (const threshold of this.judged) {
      const value = this.judge(threshold, false);
      if (value === null || compare(value, threshold.comparator, threshold.value)) continue;
      failing.push(threshold.source);
      if (mayAbort && threshold.abort && this.abort === undefined && this.elapsedMs >= threshold.abort.afterMs) {
        const metric = metricNamed(threshold.metric)!;
        this.abort = {
          threshold: threshold.source,
          atMs: Math.round(this.elapsedMs),
          actual: value,
          formatted: formatMetric(metric, value),
        };
      }
    }
    this.failing = failing;
    return hadAbort ? undefined : this.abort;
  }

  /**
   * The worst window of every `over` threshold, by its source text. A run shorter than a window is
   * judged as one window. Frees the histograms: call once, at the end.
   */
  finish(): Map<string, WorstWindow> {
    const result = new Map<string, WorstWindow>();
    for (const threshold of this.judged) {
      if (threshold.windowMs === undefined) continue;
      if (!this.worst.has(threshold)) this.judge(threshold, true);
      result.set(threshold.source, this.worst.get(threshold) ?? { value: null, startMs: 0, endMs: this.elapsedMs });
    }
    this.run.destroy();
    for (const window of this.windows.values()) window.destroy();
    return result;
  }

  /** The value a threshold stands at: the whole run so far, or its worst window so far (`partial`: a window not yet full counts). */
  private judge(threshold: Threshold, partial: boolean): number | null {
    const metric = metricNamed(threshold.metric)!;
    if (threshold.windowMs === undefined) return this.run.measure(metric, threshold.percentile);
    const window = this.windows.get(threshold.windowMs / 1000)!;
    if (window.full || partial) {
      const value = window.measure(metric, threshold.percentile);
      const worst = this.worst.get(threshold);
      if (value !== null && (worst === undefined || worst.value === null || worse(threshold, value, worst.value))) {
        this.worst.set(threshold, { value, startMs: window.startMs, endMs: window.startMs + window.lengthMs });
      }
    }
    return this.worst.get(threshold)?.value ?? null;
  }
}

/** Whether `value` is further on the failing side of the comparison than `than` (an upper bound: higher). */
function worse(threshold: Threshold, value: number, than: number): boolean {
  return threshold.comparator === '<' || threshold.comparator === '<=' ? value > than : value < than;
}

/**
 * The worst windows of `over` thresholds found again from a stored per-second timeline (merged shards,
 * whose seconds add exactly). Undefined when the timeline has coarser buckets (a run over an hour):
 * its seconds are gone.
 */
export function windowsOfTimeline(
  thresholds: readonly Threshold[],
  timeline: ReadonlyArray<{ t: number; span?: number; requests: number; ok: number; histogram: string | null }>,
  durationMs: number,
): Map<string, WorstWindow> | undefined {
  if (!thresholds.some((t) => t.windowMs !== undefined)) return new Map();
  if (timeline.some((bucket) => (bucket.span ?? 1) !== 1)) return undefined;
  const watch = new ThresholdWatch(thresholds);
  for (const { t, requests, ok, histogram } of timeline) {
    watch.add({ t, requests, ok, histogram, lengthMs: Math.min(1000, Math.max(0, durationMs - t * 1000)) });
  }
  return watch.finish();
}
