import { createHash } from 'node:crypto';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import type { Threshold } from '../thresholds/parse.js';
import type { LoadPlan } from '../engine/plan.js';
import { shardShare } from '../engine/share.js';
import { decodeHistogram, summarize, type LatencySummaryMs } from '../metrics/histogram.js';
import { LATE_START_MS, type RecorderSnapshot, type StreamSnapshot } from '../metrics/snapshot.js';
import { evaluateThresholds, secondsText, type WorstWindow } from '../thresholds/evaluate.js';
import { redactHeaders, redactUrl } from '../util/redact.js';
import { computeRecovery } from '../chaos/recovery.js';
import { chaosWarnings } from '../chaos/verdicts.js';
import {
  RESULT_SCHEMA,
  type ChaosFacts,
  type ChaosFaults,
  type MeasuredFigures,
  type ResultDocument,
  type RunAbort,
  type ScenarioResult,
  type StreamFigures,
  type ThresholdVerdict,
} from '../model/result.js';

/** The latency figures reports show, in order, with their labels. */
export const LATENCY_COLUMNS: ReadonlyArray<[keyof LatencySummaryMs, string]> = [
  ['min', 'min'],
  ['mean', 'mean'],
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p95', 'p95'],
  ['p99', 'p99'],
  ['p999', 'p99.9'],
  ['max', 'max'],
];

/**
 * The verdict over several runs, for reports: 'all 4 thresholds passed', 'the 1 threshold passed · 1 warning',
 * '1 of 4 thresholds failed · 1 run interrupted (partial results)'.
 */
export function campaignVerdict(scenarios: ReadonlyArray<ScenarioResult>): { ok: boolean; text: string } {
  let total = 0;
  let failed = 0;
  let interrupted = 0;
  let aborted = 0;
  let warnings = 0;
  for (const { document } of scenarios) {
    warnings += document.warnings?.length ?? 0;
    if (document.abortedBy) aborted++;
    if (document.interrupted) {
      interrupted++;
      continue;
    }
    total += document.thresholds.length;
    failed += document.thresholds.filter((t) => !t.ok).length;
  }
  const parts: string[] = [];
  if (failed > 0) parts.push(`${failed} of ${total} ${plural(total, 'threshold')} failed`);
  if (interrupted > 0) parts.push(`${interrupted} ${plural(interrupted, 'run')} interrupted (partial results)`);
  if (aborted > 0) parts.push(`${aborted} ${plural(aborted, 'run')} stopped by a threshold`);
  const ok = parts.length === 0;
  if (ok) parts.push(total === 1 ? 'the 1 threshold passed' : `all ${total} thresholds passed`);
  if (warnings > 0) parts.push(`${warnings} ${plural(warnings, 'warning')}`);
  return { ok, text: parts.join(' · ') };
}

export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

export interface RunFacts {
  command: string;
  startedAt: Date;
  durationMs: number;
  interrupted: boolean;
  snapshot: RecorderSnapshot;
  chaos?: ChaosFacts;
  /** A threshold with `abort` stopped the run. */
  abort?: RunAbort;
  /** The worst window of each `over` threshold (ThresholdWatch). */
  windows?: ReadonlyMap<string, WorstWindow>;
}

export function buildResultDocument(plan: LoadPlan, facts: RunFacts): ResultDocument {
  const { snapshot } = facts;
  const live = { ...(facts.windows ? { windows: facts.windows } : {}), ...(facts.abort ? { abort: facts.abort } : {}) };
  const figures = measuredFigures(snapshot, facts.durationMs, plan.thresholds, facts.chaos, live);
  const document: ResultDocument = {
    schema: RESULT_SCHEMA,
    command: facts.command,
    target: redactUrl(plan.options.url),
    seed: plan.seed,
    startedAt: facts.startedAt.toISOString(),
    durationMs: round(facts.durationMs, 1),
    interrupted: facts.interrupted,
    ...(facts.abort ? { abortedBy: { ...facts.abort } } : {}),
    model: plan.model,
    fingerprint: fingerprintOf(plan, facts.command),
    shard: plan.shard.count > 1 ? { ...plan.shard } : null,
    settings: {
      method: plan.method,
      concurrency: plan.concurrency,
      maxConnections: plan.model === 'open' ? plan.maxConnections : null,
      requests: plan.requests ?? null,
      durationMs: plan.durationMs ?? null,
      rate: plan.rate ?? null,
      timeoutMs: plan.timeoutMs,
      workers: plan.workers,
      headers: redactHeaders(plan.headerPairs, plan.redact),
      expectStatus: plan.options.expectStatus ?? '2xx',
    },
    schedule:
      plan.model === 'open'
        ? {
            rate: plan.rate ?? null,
            stages: plan.options.stages ? plan.arrivals!.steps : null,
            // This shard's part (of all its threads): the shards' parts add up to the whole schedule.
            scheduled: shardShare(plan.arrivals!.total, plan.shard, plan.workers),
            lateStarts: snapshot.lateStarts,
            lateStartMs: LATE_START_MS,
            peakConnections: snapshot.peakConnections,
            waitedForConnection: snapshot.waitedForConnection,
            connectionsNeeded: connectionsNeeded(
              snapshot,
              Math.max(...plan.arrivals!.steps.map((step) => step.rate)) / plan.shard.count,
              figures.serviceTimeMs?.mean ?? null,
            ),
          }
        : null,
    ...figures,
  };
  if (plan.policy) {
    const counters = snapshot.counters ?? {};
    document.policy = {
      retries: plan.policy.retries,
      backoff: plan.policy.backoffSource,
      retryOn: plan.options.policy?.retryOn ?? '5xx,429,timeout,reset',
      breaker: plan.options.policy?.breaker ?? null,
      providers: plan.targets.length,
      attempts: counters.attempts ?? 0,
      retried: counters.retries ?? 0,
      failovers: counters.failovers ?? 0,
      breakerRejections: counters.breakerRejections ?? 0,
    };
  }
  return document;
}

/**
 * The requests the success rate is out of: those that ended (ok or failed), those cut unanswered at
 * stop (cancelled) and those due but never sent (dropped). An unanswered request is not a success:
 * a service that hangs fails the run instead of passing on the few answers it gave.
 */
export function attemptedRequests(requests: { total: number; cancelled: number; dropped?: number }): number {
  return requests.total + requests.cancelled + (requests.dropped ?? 0);
}

/** A snapshot's streams as the result carries them: counts, summaries and the histograms to merge. */
function streamFigures(streams: StreamSnapshot): StreamFigures {
  const summary = (encoded: string) => {
    const histogram = decodeHistogram(encoded);
    const figures = summarize(histogram);
    histogram.destroy();
    return figures;
  };
  return {
    streams: streams.streams,
    dataEvents: streams.dataEvents,
    ttftMs: summary(streams.ttft),
    eventGapMs: summary(streams.eventGap),
    histograms: { ttft: streams.ttft, eventGap: streams.eventGap },
  };
}

export function measuredFigures(
  snapshot: RecorderSnapshot,
  durationMs: number,
  thresholds: readonly Threshold[],
  chaosFacts?: ChaosFacts,
  live: { windows?: ReadonlyMap<string, WorstWindow>; abort?: RunAbort } = {},
): MeasuredFigures {
  const latencyHistogram = decodeHistogram(snapshot.latency);
  const serviceHistogram = snapshot.serviceTime === null ? null : decodeHistogram(snapshot.serviceTime);
  const latencyMs = summarize(latencyHistogram);
  const attempted = attemptedRequests(snapshot);
  const successRate = attempted > 0 ? snapshot.ok / attempted : null;
  const rps = durationMs > 0 ? snapshot.total / (durationMs / 1000) : 0;
  const chaos = chaosFacts ? chaosFigures(chaosFacts, snapshot) : undefined;
  const timeline = snapshot.timeline.map((second) => {
    let p99Ms: number | null = null;
    if (second.histogram !== null) {
      const histogram = decodeHistogram(second.histogram);
      p99Ms = histogram.getValueAtPercentile(99) / 1000;
      histogram.destroy();
    }
    return { t: second.t, ...(second.span === undefined ? {} : { span: second.span }), requests: second.requests, ok: second.ok, p99Ms };
  });
  const figures: MeasuredFigures = {
    requests: {
      total: snapshot.total,
      ok: snapshot.ok,
      failed: snapshot.total - snapshot.ok,
      cancelled: snapshot.cancelled,
      dropped: snapshot.dropped,
    },
    successRate: successRate === null ? null : round(successRate, 6),
    rps: round(rps, 1),
    latencyMs,
    serviceTimeMs: serviceHistogram === null ? latencyMs : summarize(serviceHistogram),
    statusCodes: snapshot.statusCodes,
    errors: snapshot.errors,
    thresholds: [],
    warnings: chaosFacts ? chaosWarnings(chaosFacts.providers, chaosFacts.windows, durationMs, chaosFacts.halted) : [],
    timeline,
    histograms: {
      latency: snapshot.latency,
      serviceTime: snapshot.serviceTime,
      timeline: snapshot.timeline.map((second) => second.histogram),
    },
    ...chaos,
  };
  if (snapshot.streams) figures.streams = streamFigures(snapshot.streams);
  // Judged on the figures as measured, not as the document rounds them.
  figures.thresholds = evaluateThresholds(
    thresholds,
    {
      ...figures,
      successRate,
      rps,
      percentileMs: (p) => (latencyHistogram.totalCount === 0 ? null : latencyHistogram.getValueAtPercentile(p) / 1000),
      ...(chaosFacts ? { chaos: chaosFacts } : {}),
    },
    live,
  );
  latencyHistogram.destroy();
  serviceHistogram?.destroy();
  return figures;
}

/**
 * The connections that would have kept the open model's schedule. When no request had to wait for
 * one, those used (the peak in use). Otherwise Little's law: the highest scheduled rate × the mean
 * service time (k6 sizes arrival-rate VUs the same way); bursts of slow answers need more.
 */
export function connectionsNeeded(
  snapshot: Pick<RecorderSnapshot, 'peakConnections' | 'waitedForConnection'>,
  peakRate: number,
  meanServiceMs: number | null,
): number {
  if (snapshot.waitedForConnection === 0 || meanServiceMs === null) return snapshot.peakConnections;
  return Math.max(snapshot.peakConnections, Math.ceil((peakRate * meanServiceMs) / 1000));
}

/**
 * What makes two results parts of the same campaign (shards that may be merged): the command, target,
 * request shape, load model and its totals, thresholds and shard count. The seed is left out.
 */
function fingerprintOf(plan: LoadPlan, command: string): string {
  const identity = JSON.stringify([
    command,
    redactUrl(plan.options.url),
    plan.method,
    plan.model,
    plan.concurrency,
    plan.requests ?? null,
    plan.durationMs ?? null,
    plan.rate ?? null,
    plan.options.stages ?? null,
    plan.thresholds.map((t) => t.source),
    plan.shard.count,
  ]);
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

function chaosFigures(
  chaos: ChaosFacts,
  snapshot: RecorderSnapshot,
): Required<Pick<ResultDocument, 'faults' | 'amplification' | 'recovery' | 'faultWindows'>> & Pick<ResultDocument, 'behaviour' | 'halted'> {
  const faults: ChaosFaults = { injected: {}, upstreamCalls: 0, passedThrough: 0, upstreamErrors: 0, providers: chaos.providers };
  for (const stats of Object.values(chaos.providers)) {
    faults.upstreamCalls += stats.calls;
    faults.passedThrough += stats.passedThrough;
    faults.upstreamErrors += stats.upstreamErrors;
    for (const [name, count] of Object.entries(stats.injected)) faults.injected[name] = (faults.injected[name] ?? 0) + count;
  }
  return {
    faults,
    amplification: snapshot.total > 0 ? round(faults.upstreamCalls / snapshot.total, 3) : null,
    recovery: computeRecovery(snapshot.timeline, chaos.windows),
    faultWindows: chaos.windows.map((w) => ({ window: w.source, startMs: w.startMs, endMs: w.endMs })),
    ...(chaos.behaviour ? { behaviour: chaos.behaviour } : {}),
    ...(chaos.halted ? { halted: chaos.halted } : {}),
  };
}

/**
 * The process exit code a result calls for: interrupted runs 130/143, a run that never reached its
 * target 3, a run a threshold stopped 99, a missed threshold 1, else 0.
 */
export function exitCodeFor(document: ResultDocument, signal?: 'SIGINT' | 'SIGTERM'): ExitCodeValue {
  if (document.interrupted) return signal === 'SIGTERM' ? ExitCode.interruptedSigterm : ExitCode.interruptedSigint;
  if (neverConnected(document)) return ExitCode.couldNotRun;
  if (document.abortedBy) return ExitCode.abortedByThreshold;
  return document.thresholds.every((t) => t.ok) ? ExitCode.ok : ExitCode.thresholdFailed;
}

/** True when requests were made but not one connection to the target could be opened. */
export function neverConnected(document: ResultDocument): boolean {
  const { total } = document.requests;
  return total > 0 && (document.errors.refused ?? 0) === total;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** 'stopped at 12s by success_rate>=0.9 abort (84.00% then)', or undefined for a run no threshold stopped. */
export function abortText(document: Pick<ResultDocument, 'abortedBy'>): string | undefined {
  const abort = document.abortedBy;
  if (!abort) return undefined;
  return `stopped at ${secondsText(abort.atMs)} by threshold ${abort.threshold} (${abort.formatted} then)`;
}

/** A window threshold's worst window, to show beside its value: 'worst 10s window 12s..22s'; '' for others. */
export function windowText(verdict: Pick<ThresholdVerdict, 'window'>): string {
  const window = verdict.window;
  if (!window) return '';
  return `worst ${secondsText(window.lengthMs)} window ${secondsText(window.startMs)}..${secondsText(window.endMs)}`;
}

/** The value as reports show it, with a window threshold's worst window: '310.0ms (worst 10s window 12s..22s)'. */
export function verdictValueText(verdict: Pick<ThresholdVerdict, 'formatted' | 'window'>): string {
  const window = windowText(verdict);
  return window === '' ? verdict.formatted : `${verdict.formatted} (${window})`;
}
