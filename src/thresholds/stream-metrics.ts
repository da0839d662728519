import type { LatencySummaryMs } from '../metrics/histogram.js';
import type { StreamFigures } from '../model/result.js';
import type { Metric, MetricSource } from './metric.js';

/**
 * The stream metrics: of server-sent-events answers (content-type text/event-stream), the time from
 * a request's start to its first data event (`ttft_*`) and between consecutive data events of one
 * stream (`event_gap_*`), at p50, p90, p95, p99, p999, max or mean. Judged at the end of the run only
 * (not live: they cannot abort a run nor take `over`). On a run that saw no stream they fail, saying so.
 */

const SUFFIXES: ReadonlyArray<[string, keyof LatencySummaryMs, string]> = [
  ['p50', 'p50', 'median'],
  ['p90', 'p90', '90th percentile'],
  ['p95', 'p95', '95th percentile'],
  ['p99', 'p99', '99th percentile'],
  ['p999', 'p999', '99.9th percentile'],
  ['max', 'max', 'longest'],
  ['mean', 'mean', 'mean'],
];

const FAMILIES: ReadonlyArray<{ prefix: string; figures: 'ttftMs' | 'eventGapMs'; what: string }> = [
  { prefix: 'ttft', figures: 'ttftMs', what: "streams: time from the request's start to its first data event (ttft)" },
  { prefix: 'event_gap', figures: 'eventGapMs', what: 'streams: time between consecutive data events of one stream' },
];

export const STREAM_METRICS: readonly Metric[] = FAMILIES.flatMap(({ prefix, figures, what }) =>
  SUFFIXES.map(
    ([suffix, key, words]): Metric => ({
      name: `${prefix}_${suffix}`,
      kind: 'duration',
      unit: 'ms',
      better: 'lower',
      description: `${what}, ${words}`,
      measure: (s) => s.streams?.[figures]?.[key] ?? null,
      explain: (actual, s) => (actual === null ? whyNoData(s, figures) : undefined),
    }),
  ),
);

/** Why a stream metric has nothing to judge: no stream, no data event, or no stream with two. */
function whyNoData(source: MetricSource, figures: keyof Pick<StreamFigures, 'ttftMs' | 'eventGapMs'>): string {
  const streams = source.streams;
  if (!streams || streams.streams === 0) return 'no streamed answer was seen (no response had content-type text/event-stream)';
  if (streams.dataEvents === 0) return `no data event arrived in the ${streams.streams} streamed answers`;
  return figures === 'eventGapMs' ? 'no stream had two data events: there was no gap to measure' : 'no data event arrived';
}
