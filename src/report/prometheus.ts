import { Counter, Gauge, Registry } from 'prom-client';
import {
  dependencyMetrics,
  faultCounters,
  HdrHistogramMetric,
  HELP,
  latencyBuckets,
  outcomeCounts,
  streamMetrics,
} from '../metrics/prometheus.js';
import type { ScenarioResult } from '../model/result.js';

/**
 * The end state of runs in the Prometheus text exposition format, one `scenario` label per run (and
 * for chaos runs with a behaviour section, resil_dependency_* per `provider`).
 * Built with a fresh prom-client registry per call (no default metrics).
 */
export async function renderPrometheus(scenarios: ReadonlyArray<ScenarioResult>): Promise<string> {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({ name: 'resil_requests_total', help: HELP.requests, labelNames: ['scenario', 'outcome'], registers });
  const dropped = new Counter({ name: 'resil_requests_dropped_total', help: HELP.dropped, labelNames: ['scenario'], registers });
  const cancelled = new Counter({ name: 'resil_requests_cancelled_total', help: HELP.cancelled, labelNames: ['scenario'], registers });
  const duration = new HdrHistogramMetric('resil_request_duration_seconds', HELP.duration).registerIn(registry);
  const countFaults = faultCounters(registers, ['scenario', 'provider']);
  const dependency = dependencyMetrics(registry, ['scenario']);
  const streams = streamMetrics(registry, ['scenario']);
  const successRatio = new Gauge({
    name: 'resil_success_ratio',
    help:
      'Share of requests that succeeded, those cut unanswered at stop and those dropped counted as failed (0..1); ' +
      'absent when no request was made or dropped.',
    labelNames: ['scenario'],
    registers,
  });
  const thresholdOk = new Gauge({
    name: 'resil_threshold_ok',
    help: 'Whether each threshold held: 1 held, 0 missed.',
    labelNames: ['scenario', 'expression'],
    registers,
  });
  const aborted = new Gauge({
    name: 'resil_aborted_seconds',
    help: 'Runs a threshold with abort stopped: seconds from the start to the stop, labelled with the threshold.',
    labelNames: ['scenario', 'threshold'],
    registers,
  });
  const rps = new Gauge({
    name: 'resil_requests_per_second',
    help: 'Requests per second over the run.',
    labelNames: ['scenario'],
    registers,
  });

  for (const { name: scenario, document } of scenarios) {
    for (const [outcome, count] of outcomeCounts(document.requests.ok, document.errors)) requests.inc({ scenario, outcome }, count);
    dropped.inc({ scenario }, document.requests.dropped ?? 0);
    cancelled.inc({ scenario }, document.requests.cancelled);
    duration.add({ scenario }, latencyBuckets(document.histograms.latency));
    const streamed = document.streams;
    if (streamed) {
      const { ttft, eventGap } = streamed.histograms;
      streams({ scenario }, { streams: streamed.streams, dataEvents: streamed.dataEvents, ttft, eventGap });
    }
    for (const [provider, stats] of Object.entries(document.faults?.providers ?? {})) countFaults({ scenario, provider }, stats);
    for (const [provider, behaviour] of Object.entries(document.behaviour?.providers ?? {})) dependency({ scenario, provider }, behaviour);
    if (document.successRate !== null) successRatio.set({ scenario }, document.successRate);
    for (const threshold of document.thresholds) thresholdOk.set({ scenario, expression: threshold.expression }, threshold.ok ? 1 : 0);
    rps.set({ scenario }, document.rps);
    if (document.abortedBy) aborted.set({ scenario, threshold: document.abortedBy.threshold }, document.abortedBy.atMs / 1000);
  }
  return registry.metrics();
}
