import { evaluateThresholds } from '../../src/thresholds/evaluate.js';
import {
  chaosOnlyProblem,
  comparedMetrics,
  formatMetric,
  knownMetricNames,
  metricNamed,
  resolveMetricName,
  suggestableMetricNames,
  thresholdMetrics,
} from '../../src/thresholds/metrics.js';
import type { Metric } from '../../src/thresholds/metric.js';
import { parseThreshold } from '../../src/thresholds/parse.js';
import { NO_DATA } from '../../src/util/format.js';
import { sampleSource } from '../helpers/metric-source.js';

/** Every name a threshold can be written with: each metric's, each percentile shorthand, and p(N) once. */
function writtenNames(metric: Metric): Array<{ name: string; percentile?: number }> {
  if (!metric.percentiles) return [{ name: metric.name }];
  return [...metric.percentiles.shorthands.map(({ name, percentile }) => ({ name, percentile })), { name: 'p(97.5)', percentile: 97.5 }];
}

const cases = thresholdMetrics().flatMap((metric) => writtenNames(metric).map((written) => ({ ...written, metric })));

describe('the threshold metric registry: every entry measures, formats and is known to the parser', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', (name, { metric, percentile }) => {
    expect(metric.description).not.toBe('');
    expect(metric.unit).not.toBe('');
    expect(['higher', 'lower']).toContain(metric.better);

    // The parser knows it, lists it, and suggests it for a typo.
    const written = name.includes('(') ? { percentileText: '97.5' } : {};
    expect(resolveMetricName(name)).toEqual({ metric, ...(percentile === undefined ? {} : { percentile }), ...written });
    expect(knownMetricNames()).toContain(metric.percentiles && name.includes('(') ? metric.percentiles.written : name);
    if (!name.includes('(')) expect(suggestableMetricNames()).toContain(name);

    // Measured from a result's figures: a number (a field the sample lacks, or a measure returning
    // nothing, fails here), written as its kind is.
    const source = sampleSource();
    const measured = metric.measure(source, percentile);
    expect(typeof measured).toBe('number');
    expect(Number.isFinite(measured)).toBe(true);
    const formatted = formatMetric(metric, measured);
    expect(formatted).not.toBe(NO_DATA);
    expect(formatted).toMatch(/\d/);

    // A threshold on it is judged, and its verdict carries the metric, kind and value as shown.
    const threshold = parseThreshold(`${name}>=0`);
    expect(threshold.metric).toBe(metric.name);
    const [verdict] = evaluateThresholds([threshold], source);
    expect(verdict).toMatchObject({ metric: metric.name, kind: metric.kind, ok: true, formatted });
    expect(verdict!.actual).toBeCloseTo(measured!, 6);
    expect(verdict!.percentile).toBe(percentile);

    // Chaos-only metrics are refused for load runs; the rest are not.
    expect(chaosOnlyProblem(name, metric.name, 'use resil chaos') === undefined).toBe(!metric.chaos);

    // A metric measured per provider takes one: measured on that provider alone, and its verdict
    // names it. Any other refuses a qualifier.
    const qualified = `${name}{payments}>=0`;
    if (metric.perProvider) {
      expect(metric.chaos).toBe(true);
      expect(parseThreshold(qualified)).toMatchObject({ metric: metric.name, provider: 'payments' });
      const alone = metric.measure(source, percentile, 'payments');
      expect(alone === null || typeof alone === 'number').toBe(true);
      const [qualifiedVerdict] = evaluateThresholds([parseThreshold(qualified)], source);
      expect(qualifiedVerdict).toMatchObject({ provider: 'payments', formatted: formatMetric(metric, alone) });
    } else {
      expect(() => parseThreshold(qualified)).toThrow(/is not measured per provider \(a \{provider\} goes with dependency_calls/);
    }
  });

  test("nothing measured is no data (or the metric's own word for it, 'n/a') for every metric, never a number", () => {
    const empty = sampleSource({
      successRate: null,
      latencyMs: null,
      percentileMs: () => null,
      faults: undefined,
      amplification: null,
      recovery: [],
      behaviour: undefined,
      streams: undefined,
    });
    for (const { metric, percentile } of cases) {
      if (metric.kind === 'rate') continue; // rps is 0 in an empty run, not unknown
      expect([metric.name, formatMetric(metric, metric.measure(empty, percentile))]).toEqual([metric.name, metric.absent ?? NO_DATA]);
    }
  });

  test("a metric whose null means 'the situation never arose' writes its own word for it", () => {
    const metric: Metric = { ...metricNamed('dependency_calls')!, absent: 'n/a' };
    expect([formatMetric(metric, null), formatMetric(metricNamed('dependency_calls')!, null), formatMetric(metric, 3)]).toEqual([
      'n/a',
      NO_DATA,
      '3',
    ]);
  });

  test('aliases and compared metrics name registered metrics', () => {
    for (const metric of thresholdMetrics()) if (metric.sameAs !== undefined) expect(metricNamed(metric.sameAs)).toBeDefined();
    const compared = comparedMetrics();
    expect(compared.map((m) => m.name)).toEqual(['success_rate', 'rps', 'p50', 'p95', 'p99', 'mean', 'p90', 'p999', 'max']);
    for (const { name, metric, percentile } of compared) {
      expect(resolveMetricName(name)).toMatchObject({ metric, ...(percentile === undefined ? {} : { percentile }) });
    }
  });
});
