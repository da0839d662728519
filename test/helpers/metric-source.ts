import type { MetricSource } from '../../src/thresholds/metric.js';
import { sampleBehaviour } from './observed.js';

/**
 * The figures of a chaos run as thresholds are measured on them: every field a registered metric
 * reads has a value (a new metric's field belongs here too), `overrides` replace any of them.
 */
export function sampleSource(overrides: Partial<MetricSource> = {}): MetricSource {
  const provider = {
    calls: 1300,
    eligible: 1300,
    considered: 1300,
    expected: 130,
    passedThrough: 1170,
    injected: { status: 130 },
    upstreamErrors: 0,
    rejected: 0,
    unmatched: 0,
    target: 'http://127.0.0.1:9/',
    listen: '127.0.0.1:8091',
  };
  return {
    requests: { total: 1000, ok: 970, failed: 30, cancelled: 0, dropped: 0 },
    successRate: 0.97,
    rps: 480,
    latencyMs: { min: 1, mean: 40, p50: 20, p90: 25, p95: 30, p99: 310, p999: 800, max: 900 },
    serviceTimeMs: null,
    statusCodes: { '200': 970, '503': 30 },
    errors: {},
    timeline: [],
    histograms: { latency: '', serviceTime: null, timeline: [] },
    warnings: [],
    faults: { injected: { status: 130 }, upstreamCalls: 1300, passedThrough: 1170, upstreamErrors: 0, providers: { payments: provider } },
    amplification: 1.3,
    recovery: [{ window: 'payments:status@2s-4s', recoveryMs: 1500 }],
    faultWindows: [{ window: 'payments:status@2s-4s', startMs: 2000, endMs: 4000 }],
    behaviour: sampleBehaviour(),
    streams: {
      streams: 1000,
      dataEvents: 13000,
      ttftMs: { min: 80, mean: 120, p50: 110, p90: 150, p95: 170, p99: 240, p999: 300, max: 310 },
      eventGapMs: { min: 15, mean: 20, p50: 20, p90: 22, p95: 25, p99: 40, p999: 90, max: 95 },
      histograms: { ttft: '', eventGap: '' },
    },
    percentileMs: (p) => (p >= 99 ? 310 : 20),
    ...overrides,
  };
}
