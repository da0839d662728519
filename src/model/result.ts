import type { LatencySummaryMs } from '../metrics/histogram.js';
import type { WindowRecovery } from '../chaos/recovery.js';
import type { ProxyStats } from '../proxy/stats.js';
import type { BehaviourDocument } from './behaviour.js';

/**
 * The types of the result document (resil/result@1), a public contract read by CI steps, dashboards
 * and `resil report`: types and the schema's name only, so every layer may name them. It is built
 * and rendered in src/report. Fields keep their names and meaning; new ones are added, and src/report/read.ts fills
 * in, for results of an older resil, what their absence meant.
 */

export const RESULT_SCHEMA = 'resil/result@1';

/** The result document: a public contract read by CI steps, dashboards and `resil report`. */
export interface ResultDocument {
  schema: typeof RESULT_SCHEMA;
  command: string;
  /** Same value for results of the same campaign (shards to merge); see fingerprintOf in src/report/result.ts. */
  fingerprint: string;
  /** This result's shard, or null for a whole run. A merged result has `mergedShards` instead. */
  shard: { index: number; count: number } | null;
  mergedShards?: number;
  /** Campaign runs: the scenario's name. */
  scenario?: string;
  /** The target with credentials and token-like query values removed. */
  target: string;
  seed: number;
  startedAt: string;
  durationMs: number;
  interrupted: boolean;
  /**
   * Set when a threshold with `abort` failed while the run went on and stopped it early: which, at
   * what time from the start (ms) and its value then. The other figures are those of the shortened run.
   */
  abortedBy?: RunAbort;
  model: 'closed' | 'open';
  settings: ResultSettings;
  /**
   * total = ok + failed, the requests that ended with an answer or an error; cancelled (sent, still
   * unanswered when the grace period ran out, or waiting in backoff at stop) and dropped (open model:
   * due, never sent) are outside it. total + cancelled = the requests sent.
   */
  requests: { total: number; ok: number; failed: number; cancelled: number; dropped: number };
  /** ok ÷ (total + dropped + cancelled): a request never sent, or sent and never answered, counts as a failure. */
  successRate: number | null;
  rps: number;
  latencyMs: LatencySummaryMs | null;
  serviceTimeMs: LatencySummaryMs | null;
  /** Open model only: the schedule and how well it was kept. */
  schedule: {
    /** Requests per second; null when stages set it. */
    rate: number | null;
    stages: Array<{ durationMs: number; rate: number; requests: number }> | null;
    /** Requests in the schedule: in a shard's result, that shard's part (merging adds them up). */
    scheduled: number;
    lateStarts: number;
    lateStartMs: number;
    /**
     * The most connections in use at once (per thread, added up over threads and shards). This and
     * the next two are null in results of a resil from before they were measured.
     */
    peakConnections: number | null;
    /** Requests that, when due, found every connection busy at --max-connections (they waited, or were dropped). */
    waitedForConnection: number | null;
    /** Connections that would have kept the schedule: see connectionsNeeded(). */
    connectionsNeeded: number | null;
  } | null;
  statusCodes: Record<string, number>;
  errors: Record<string, number>;
  thresholds: ThresholdVerdict[];
  /** Per second; on a run longer than an hour, buckets of `span` seconds (see TIMELINE_BUCKETS). */
  timeline: Array<{ t: number; span?: number; requests: number; ok: number; p99Ms: number | null }>;
  histograms: { latency: string; serviceTime: string | null; timeline: Array<string | null> };
  /** Server-sent-events answers, when the run saw any (absent otherwise, and in results from before). */
  streams?: StreamFigures;
  /** Chaos runs only: what the proxies did. */
  faults?: ChaosFaults;
  /** Chaos runs only: dependency calls per request. */
  amplification?: number | null;
  /** Chaos runs only: per fault window, the time back to steady state. */
  recovery?: WindowRecovery[];
  faultWindows?: Array<{ window: string; startMs: number; endMs: number }>;
  /** Chaos runs only: a halt condition stopped the faults (absent when none did). */
  halted?: Halted;
  /** Chaos runs only: the service's dependency calls as the proxies saw them (retries, backoff, breakers...). */
  behaviour?: BehaviourDocument;
  /** Policy mode only: the client policy and what it did. */
  policy?: PolicySummary;
  /**
   * What made the run prove less than asked without failing it (an upstream that did not answer, a
   * fault rate far below the one asked for...), one line each. Absent in results from before it.
   */
  warnings?: string[];
  /** Flag values that came from RESIL_* variables, as shown (secrets redacted); absent when none did. */
  fromEnvironment?: Record<string, string>;
}

/**
 * How a metric's value is measured and written: `ratio` 0..1 (shown as a percent), `duration` in ms,
 * `rate` per second, `count` a whole number of things, `factor` a plain number (amplification).
 */
export type MetricKind = 'ratio' | 'duration' | 'rate' | 'count' | 'factor';

/**
 * Streamed answers (content-type text/event-stream; one per request at most: in policy mode the final
 * attempt's; none for a cancelled request) and their data events (events with a `data` field, error
 * events excluded). ttft: from the request's start (the same start as its latency: the scheduled time
 * in the open model) to its first data event, whatever that event carries (Anthropic's message_start,
 * OpenAI's role chunk: not necessarily a token); event gap: between consecutive data events of one
 * stream (0 for events that arrive together), and from the last one to the error event or the cut that
 * ended it: the longest silence the caller saw mid-answer. Null when there was none to measure.
 */
export interface StreamFigures {
  streams: number;
  dataEvents: number;
  ttftMs: LatencySummaryMs | null;
  eventGapMs: LatencySummaryMs | null;
  /** Encoded HDR histograms (microseconds), for merging shards. */
  histograms: { ttft: string; eventGap: string };
}

/** Why and when a threshold stopped a run (see ResultDocument.abortedBy). */
export interface RunAbort {
  /** The threshold as written. */
  threshold: string;
  atMs: number;
  actual: number | null;
  formatted: string;
}

/** One threshold as judged. `expression` and `actual` date from the first resil/result@1. */
export interface ThresholdVerdict {
  /** The threshold as the user wrote it ('p99<300ms'). */
  expression: string;
  /** The metric judged, as the threshold registry names it: 'success_rate', 'recovery', 'p' (with `percentile`)... */
  metric: string;
  /** Percentile metrics ('p'): the percentile, (0..100]. */
  percentile?: number;
  /** A threshold qualified with a provider ('retries{openai}<=100'): the metric was measured on that provider's calls alone. */
  provider?: string;
  kind: MetricKind;
  ok: boolean;
  /** The measured value in the metric's base unit (ratio 0..1, ms, per second...), or null when there was nothing to measure. */
  actual: number | null;
  /** The measured value as reports show it: '97.00%', '310.0ms', '1.50 calls/request', 'never recovered', 'no data'. */
  formatted: string;
  default?: true;
  /** Why it failed and what to change, when resil knows (a chaos run no dependency call reached). */
  note?: string;
  /** `over 30s`: judged on its worst window of `lengthMs`, from `startMs` to `endMs` after the run's start (`actual` is that window's). */
  window?: { lengthMs: number; startMs: number; endMs: number };
  /** This threshold stopped the run early (abort), at `atMs` from its start. */
  aborted?: { atMs: number };
}

export interface PolicySummary {
  retries: number;
  backoff: string;
  retryOn: string;
  breaker: string | null;
  /** Providers tried in order (1 + failovers). */
  providers: number;
  /** HTTP attempts made, retries among them, failovers to a later provider, calls refused by an open breaker. */
  attempts: number;
  retried: number;
  failovers: number;
  breakerRejections: number;
}

/** One named run, as the CI reporters take it: a scenario of a campaign, or the single run of a command. */
export interface ScenarioResult {
  name: string;
  document: ResultDocument;
}

/** The proxies' side of a chaos run, summed over providers and per provider. */
export interface ChaosFaults {
  injected: Record<string, number>;
  /** Dependency calls the proxies received. */
  upstreamCalls: number;
  /** Calls that reached the real upstream (or mock): exactly what it saw. */
  passedThrough: number;
  upstreamErrors: number;
  providers: Record<string, ProxyStats & { target: string; listen: string }>;
}

/** What a chaos run adds to the facts of a load run. */
export interface ChaosFacts {
  providers: Record<string, ProxyStats & { target: string; listen: string }>;
  windows: Array<{ source: string; startMs: number; endMs: number }>;
  /** Policy mode: resil's own client, not a service, calls the proxies. */
  clientIsSubject?: boolean;
  /** The calls the proxies saw, as attempts of requests (absent when no proxy observed them: --correlate off). */
  behaviour?: BehaviourDocument;
  /** A halt condition stopped every proxy's faults: when (ms from the start of the run) and why. */
  halted?: Halted;
}

/** When a halt condition (--halt-probe, --halt-when) stopped the faults, in ms from the start of the run, and why. */
export interface Halted {
  atMs: number;
  cause: string;
}

export interface ResultSettings {
  method: string;
  concurrency: number;
  /** Open model: the bound on connections opened on demand; null in the closed model. */
  maxConnections: number | null;
  requests: number | null;
  durationMs: number | null;
  rate: number | null;
  timeoutMs: number;
  workers: number;
  headers: Record<string, string>;
  expectStatus: string;
}

/** The parts of a result computed from what was measured: shared by runs and by `resil report --merge`. */
export type MeasuredFigures = Pick<
  ResultDocument,
  | 'requests'
  | 'successRate'
  | 'rps'
  | 'latencyMs'
  | 'serviceTimeMs'
  | 'statusCodes'
  | 'errors'
  | 'thresholds'
  | 'timeline'
  | 'histograms'
  | 'warnings'
> &
  Partial<Pick<ResultDocument, 'faults' | 'amplification' | 'recovery' | 'faultWindows' | 'behaviour' | 'streams'>>;
