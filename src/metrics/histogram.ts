import hdr from 'hdr-histogram-js';

type Histogram = hdr.Histogram;
export type { Histogram };

/** Latencies are recorded in whole microseconds, from 1 µs up to one hour. */
export const HIGHEST_TRACKABLE_US = 3_600_000_000;

/** Latency histograms (run-wide and per second): 3 significant digits (0.1% resolution), constant memory. */
export function createLatencyHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
    autoResize: false,
  });
}

/** Milliseconds (fractional) to the histogram's integer microseconds, clamped to its range. */
export function toMicros(ms: number): number {
  const us = Math.round(ms * 1000);
  return Math.min(Math.max(us, 1), HIGHEST_TRACKABLE_US);
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** Adds an encoded histogram into a live one (HDR histograms add exactly). */
export function addEncoded(into: Histogram, encoded: string): void {
  const other = decodeHistogram(encoded);
  into.add(other);
  other.destroy();
}

export interface LatencySummaryMs {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarize(histogram: Histogram): LatencySummaryMs | null {
  if (histogram.totalCount === 0) return null;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    min: ms(histogram.minNonZeroValue),
    mean: Math.round(histogram.mean) / 1000,
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p95: ms(histogram.getValueAtPercentile(95)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
  };
}
