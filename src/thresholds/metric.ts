import type { ChaosFacts, MeasuredFigures, MetricKind } from '../model/result.js';

/**
 * What a threshold is measured on: a result's figures (unrounded where the document rounds them), the
 * latency at any percentile, and in chaos runs what the proxies saw (for the notes on a failure).
 */
export type MetricSource = Omit<MeasuredFigures, 'thresholds'> & {
  /** Latency at a percentile (0..100] in ms, or null when nothing was measured. */
  percentileMs(percentile: number): number | null;
  chaos?: ChaosFacts;
};

export interface Metric {
  /** The name thresholds use; a family's name is what its verdicts carry ('p', with a percentile). */
  name: string;
  kind: MetricKind;
  /** The unit `measure` returns: 'ratio' (0..1), 'ms', 'req/s', 'calls', 'calls/request'. */
  unit: string;
  /** Which way is better, for comparisons with a baseline: a rise of a 'lower' metric is a worsening. */
  better: 'higher' | 'lower';
  description: string;
  /** Measured by chaos runs only: a load run has nothing to judge it on. */
  chaos?: true;
  /**
   * Measured from the per-second timeline (counts and latency histograms): judged live while the run
   * goes on, may abort it, and may be judged over a rolling window. `measure` then reads only
   * successRate, rps, latencyMs and percentileMs.
   */
  windowed?: true;
  /** Measured per provider too: a threshold may name one ('retries{openai}<=100'); `measure` then gets it. */
  perProvider?: true;
  /** The metric this one judges the same thing as: a user's threshold on either replaces a default on the other. */
  sameAs?: string;
  /** `resil report --baseline`: compared unless told otherwise ('default'), or on --metrics only ('opt-in'); absent: never. */
  compare?: 'default' | 'opt-in';
  /** A family of metrics told apart by a percentile (p99, p(99.9)): the names it takes. */
  percentiles?: {
    shorthands: ReadonlyArray<{ name: string; percentile: number; compare?: 'default' | 'opt-in' }>;
    /** The general form, as the list of known names shows it, and its pattern (the percentile as written). */
    written: string;
    call: RegExp;
  };
  /**
   * The value in `unit`; null when there is nothing to measure; Infinity when it never came (see
   * `infinite`). `provider`: a threshold qualified with a provider ('retries{openai}') measures that
   * provider's calls alone; without it, every provider's.
   */
  measure(source: MetricSource, percentile?: number, provider?: string): number | null;
  /** What an infinite measure is called ('never recovered'); without it, it is no data. */
  infinite?: string;
  /**
   * What a null measure is called when it means the situation never arose ('n/a': no Retry-After was
   * sent, no window failed every call); without it, it is no data.
   */
  absent?: string;
  /**
   * Why a failed threshold on this metric proved nothing, and what to change, when resil knows; or what
   * the measured value means in plain words. `provider`: as for `measure`.
   */
  explain?(actual: number | null, source: MetricSource, provider?: string): string | undefined;
}
