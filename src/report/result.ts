import { ExitCode, type ExitCodeValue } from '../errors.js';
import type { LoadPlan } from '../engine/plan.js';
import { LATE_START_MS } from '../engine/open.js';
import { decodeHistogram, summarize, type LatencySummaryMs } from '../metrics/histogram.js';
import type { RecorderSnapshot } from '../metrics/snapshot.js';
import { evaluateThresholds, type ThresholdVerdict } from '../thresholds/evaluate.js';
import { redactHeaders, redactUrl } from '../util/redact.js';

export const RESULT_SCHEMA = 'resil/result@1';

/** The result document: a public contract read by CI steps, dashboards and `resil report`. */
export interface ResultDocument {
  schema: typeof RESULT_SCHEMA;
  command: string;
  /** The target with credentials and token-like query values removed. */
  target: string;
  seed: number;
  startedAt: string;
  durationMs: number;
  interrupted: boolean;
  model: 'closed' | 'open';
  settings: ResultSettings;
  requests: { total: number; ok: number; failed: number; cancelled: number };
  successRate: number | null;
  rps: number;
  latencyMs: LatencySummaryMs | null;
  serviceTimeMs: LatencySummaryMs | null;
  /** Open model only: the schedule and how well it was kept. */
  schedule: { rate: number; scheduled: number; lateStarts: number; lateStartMs: number } | null;
  statusCodes: Record<string, number>;
  errors: Record<string, number>;
  thresholds: ThresholdVerdict[];
  timeline: Array<{ t: number; requests: number; ok: number; p99Ms: number | null }>;
  histograms: { latency: string; serviceTime: string | null; timeline: Array<string | null> };
}

export interface ResultSettings {
  method: string;
  concurrency: number;
  requests: number | null;
  durationMs: number | null;
  rate: number | null;
  timeoutMs: number;
  workers: number;
  headers: Record<string, string>;
  expectStatus: string;
}

export interface RunFacts {
  command: string;
  startedAt: Date;
  durationMs: number;
  interrupted: boolean;
  snapshot: RecorderSnapshot;
}

export function buildResultDocument(plan: LoadPlan, facts: RunFacts): ResultDocument {
  const { snapshot } = facts;
  const latencyHistogram = decodeHistogram(snapshot.latency);
  const serviceHistogram = snapshot.serviceTime === null ? null : decodeHistogram(snapshot.serviceTime);
  const latencyMs = summarize(latencyHistogram);
  const successRate = snapshot.total > 0 ? snapshot.ok / snapshot.total : null;
  const rps = facts.durationMs > 0 ? snapshot.total / (facts.durationMs / 1000) : 0;

  const thresholds = evaluateThresholds(plan.thresholds, {
    successRate,
    rps,
    latencyMs,
    percentileMs: (p) => (latencyHistogram.totalCount === 0 ? null : latencyHistogram.getValueAtPercentile(p) / 1000),
  });

  const timeline = snapshot.timeline.map((second) => {
    let p99Ms: number | null = null;
    if (second.histogram !== null) {
      const histogram = decodeHistogram(second.histogram);
      p99Ms = histogram.getValueAtPercentile(99) / 1000;
      histogram.destroy();
    }
    return { t: second.t, requests: second.requests, ok: second.ok, p99Ms };
  });

  const document: ResultDocument = {
    schema: RESULT_SCHEMA,
    command: facts.command,
    target: redactUrl(plan.options.url),
    seed: plan.seed,
    startedAt: facts.startedAt.toISOString(),
    durationMs: round(facts.durationMs, 1),
    interrupted: facts.interrupted,
    model: plan.model,
    settings: {
      method: plan.method,
      concurrency: plan.concurrency,
      requests: plan.requests ?? null,
      durationMs: plan.durationMs ?? null,
      rate: plan.rate ?? null,
      timeoutMs: plan.timeoutMs,
      workers: plan.workers,
      headers: redactHeaders(plan.headerPairs, plan.redact),
      expectStatus: plan.options.expectStatus ?? '2xx',
    },
    requests: { total: snapshot.total, ok: snapshot.ok, failed: snapshot.total - snapshot.ok, cancelled: snapshot.cancelled },
    successRate: successRate === null ? null : round(successRate, 6),
    rps: round(rps, 1),
    latencyMs,
    serviceTimeMs: serviceHistogram === null ? latencyMs : summarize(serviceHistogram),
    schedule:
      plan.model === 'open'
        ? { rate: plan.rate!, scheduled: scheduledCount(plan), lateStarts: snapshot.lateStarts, lateStartMs: LATE_START_MS }
        : null,
    statusCodes: snapshot.statusCodes,
    errors: snapshot.errors,
    thresholds,
    timeline,
    histograms: {
      latency: snapshot.latency,
      serviceTime: snapshot.serviceTime,
      timeline: snapshot.timeline.map((second) => second.histogram),
    },
  };
  latencyHistogram.destroy();
  serviceHistogram?.destroy();
  return document;
}

/** Requests the open-model schedule holds: the count given, or duration × rate. */
export function scheduledCount(plan: LoadPlan): number {
  return plan.requests ?? Math.floor((plan.durationMs! * plan.rate!) / 1000);
}

/**
 * The process exit code a result calls for: interrupted runs 130/143, a run that never reached its
 * target 3, a missed threshold 1, else 0.
 */
export function exitCodeFor(document: ResultDocument, signal?: 'SIGINT' | 'SIGTERM'): ExitCodeValue {
  if (document.interrupted) return signal === 'SIGTERM' ? ExitCode.interruptedSigterm : ExitCode.interruptedSigint;
  if (neverConnected(document)) return ExitCode.couldNotRun;
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
