import { evaluateThresholds } from '../../src/thresholds/evaluate.js';
import { metricOfExpression, parseThreshold, thresholdProviderProblem, withDefaults } from '../../src/thresholds/parse.js';
import { sampleSource } from '../helpers/metric-source.js';
import { closestName } from '../../src/util/suggest.js';
import { UsageError } from '../../src/errors.js';

describe('threshold parser', () => {
  test.each([
    ['success_rate>=0.95', { metric: 'success_rate', comparator: '>=', value: 0.95 }],
    ['success_rate >= 95%', { metric: 'success_rate', comparator: '>=', value: 0.95 }],
    ['error_rate<1%', { metric: 'error_rate', comparator: '<', value: 0.01 }],
    ['p99<300ms', { metric: 'p', percentile: 99, comparator: '<', value: 300 }],
    ['p(99.9)<1s', { metric: 'p', percentile: 99.9, comparator: '<', value: 1000 }],
    ['p999<2s', { metric: 'p', percentile: 99.9, comparator: '<', value: 2000 }],
    ['p50<=20ms', { metric: 'p', percentile: 50, comparator: '<=', value: 20 }],
    ['p95<250us', { metric: 'p', percentile: 95, comparator: '<', value: 0.25 }],
    ['p95<250µs', { metric: 'p', percentile: 95, comparator: '<', value: 0.25 }],
    ['mean<50ms', { metric: 'mean', comparator: '<', value: 50 }],
    ['max<2s', { metric: 'max', comparator: '<', value: 2000 }],
    ['p90<120', { metric: 'p', percentile: 90, comparator: '<', value: 120 }],
    ['rps>=500', { metric: 'rps', comparator: '>=', value: 500 }],
    ['rps>=500/s', { metric: 'rps', comparator: '>=', value: 500 }],
    ['dependency_calls==0', { metric: 'dependency_calls', comparator: '==', value: 0 }],
    ['dependency_calls!=0', { metric: 'dependency_calls', comparator: '!=', value: 0 }],
    ['dependency_calls{payments}>0', { metric: 'dependency_calls', provider: 'payments', comparator: '>', value: 0 }],
    ['dependency_calls { failover-1 } != 0', { metric: 'dependency_calls', provider: 'failover-1', comparator: '!=', value: 0 }],
    ['dependency_calls{api.v2_x}>=1', { metric: 'dependency_calls', provider: 'api.v2_x', comparator: '>=', value: 1 }],
  ])('%s', (source, expected) => {
    const threshold = parseThreshold(source);
    expect(threshold).toMatchObject(expected);
    expect(threshold.source).toBe(source);
  });

  test.each([
    ['latency<300ms', /unknown metric 'latency'/],
    ['p99 300ms', /no comparison operator \(use <, <=, >, >=, == or !=\)$/],
    ['p99=300ms', /expected METRIC OP VALUE/],
    ['p99!300ms', /expected METRIC OP VALUE/],
    ['p99{payments}<1s', /p99 is not measured per provider \(a \{provider\} goes with dependency_calls/],
    ['p(99){payments}<1s', /p\(99\) is not measured per provider/],
    ['success_rate{a}>=0.9', /success_rate is not measured per provider/],
    ['dependency_calls{}>0', /no provider between the braces \(write dependency_calls\{NAME\}\)/],
    ['dependency_calls{a b}>0', /'a b' is not a provider name/],
    ['dependency_calls{a>0', /expected METRIC OP VALUE/],
    ['p99<fast', /'fast' is not a duration/],
    ['p99<', /missing value after '<'/],
    ['success_rate>=1.5', /'1.5' is above 1/],
    ['success_rate>=150%', /above 100%/],
    ['success_rate>=high', /'high' is not a fraction or a percent/],
    ['p(0)<1s', /percentile '0' must be above 0/],
    ['p(101)<1s', /percentile '101'/],
    ['rps>=lots', /'lots' is not a number/],
    ['=<3', /expected METRIC OP VALUE/],
    ['sucess_rate>=0.9', /unknown metric 'sucess_rate': did you mean 'success_rate'\? \(known: /],
    ['dependency_call>0', /did you mean 'dependency_calls'\?/],
  ])('%s is a usage error naming the bad part', (source, message) => {
    expect(() => parseThreshold(source)).toThrow(UsageError);
    expect(() => parseThreshold(source)).toThrow(message);
  });
});

describe('threshold evaluation', () => {
  const source = sampleSource();
  const verdicts = (...sources: string[]) => evaluateThresholds(sources.map(parseThreshold), source);

  test('pass and fail carry the metric, its kind and the measured value, as a number and as shown', () => {
    expect(verdicts('success_rate>=0.95', 'p99<300ms', 'rps>=500', 'error_rate<5%', 'mean<50ms', 'p50<=20ms')).toEqual([
      { expression: 'success_rate>=0.95', metric: 'success_rate', kind: 'ratio', ok: true, actual: 0.97, formatted: '97.00%' },
      { expression: 'p99<300ms', metric: 'p', percentile: 99, kind: 'duration', ok: false, actual: 310, formatted: '310.0ms' },
      { expression: 'rps>=500', metric: 'rps', kind: 'rate', ok: false, actual: 480, formatted: '480/s' },
      { expression: 'error_rate<5%', metric: 'error_rate', kind: 'ratio', ok: true, actual: 0.03, formatted: '3.00%' },
      { expression: 'mean<50ms', metric: 'mean', kind: 'duration', ok: true, actual: 40, formatted: '40.0ms' },
      { expression: 'p50<=20ms', metric: 'p', percentile: 50, kind: 'duration', ok: true, actual: 20, formatted: '20.0ms' },
    ]);
  });

  test('a metric with nothing measured fails rather than passes', () => {
    const empty = sampleSource({ successRate: null, rps: 0, latencyMs: null, percentileMs: () => null });
    expect(evaluateThresholds([parseThreshold('p99<1s'), parseThreshold('success_rate>=0')], empty)).toEqual([
      { expression: 'p99<1s', metric: 'p', percentile: 99, kind: 'duration', ok: false, actual: null, formatted: 'no data' },
      { expression: 'success_rate>=0', metric: 'success_rate', kind: 'ratio', ok: false, actual: null, formatted: 'no data' },
    ]);
  });

  test('== and != compare exactly', () => {
    expect(verdicts('dependency_calls==1300', 'dependency_calls!=1300', 'dependency_calls!=0', 'dependency_calls==1299.5')).toMatchObject([
      { ok: true, actual: 1300 },
      { ok: false, actual: 1300 },
      { ok: true, actual: 1300 },
      { ok: false, actual: 1300 },
    ]);
  });

  test("a qualified threshold measures that provider's calls alone, and its verdict names the provider", () => {
    const stats = source.faults!.providers.payments!;
    const two = sampleSource({
      faults: {
        ...source.faults!,
        upstreamCalls: 1340,
        providers: { payments: stats, backup: { ...stats, calls: 40, rejected: 2, listen: '127.0.0.1:8092' } },
      },
    });
    expect(
      evaluateThresholds(
        ['dependency_calls{backup}>=38', 'dependency_calls{payments}==1300', 'dependency_calls>1337'].map(parseThreshold),
        two,
      ),
    ).toEqual([
      {
        expression: 'dependency_calls{backup}>=38',
        metric: 'dependency_calls',
        provider: 'backup',
        kind: 'count',
        ok: true,
        actual: 38,
        formatted: '38',
      },
      {
        expression: 'dependency_calls{payments}==1300',
        metric: 'dependency_calls',
        provider: 'payments',
        kind: 'count',
        ok: true,
        actual: 1300,
        formatted: '1,300',
      },
      { expression: 'dependency_calls>1337', metric: 'dependency_calls', kind: 'count', ok: true, actual: 1338, formatted: '1,338' },
    ]);
  });

  test('a provider the run did not have: no measure, a failed verdict, and a note naming those it had', () => {
    expect(evaluateThresholds([parseThreshold('dependency_calls{paymnts}>=0')], source)).toEqual([
      {
        expression: 'dependency_calls{paymnts}>=0',
        metric: 'dependency_calls',
        provider: 'paymnts',
        kind: 'count',
        ok: false,
        actual: null,
        formatted: 'no data',
        note: "this run had no provider 'paymnts' (its providers: payments, backup)",
      },
    ]);
  });

  test('a provider no call reached fails dependency_calls{it}>0 with a note about that provider alone', () => {
    const stats = source.faults!.providers.payments!;
    const idle = { ...stats, calls: 0, passedThrough: 0, injected: {}, listen: '127.0.0.1:8092' };
    const chaos = { providers: { payments: stats, backup: idle }, windows: [] };
    const run = sampleSource({ faults: { ...source.faults!, providers: { payments: stats, backup: idle } }, chaos });
    expect(evaluateThresholds([parseThreshold('dependency_calls{backup}>0')], run)[0]).toMatchObject({
      ok: false,
      actual: 0,
      note: "no dependency call reached provider 'backup' (listening at 127.0.0.1:8092)",
    });
  });

  test('a fault window that never recovered fails, with no number and said so', () => {
    const never = sampleSource({ recovery: [{ window: 'payments:status@2s-4s', recoveryMs: null }] });
    expect(evaluateThresholds([parseThreshold('recovery<5s')], never)).toEqual([
      { expression: 'recovery<5s', metric: 'recovery', kind: 'duration', ok: false, actual: null, formatted: 'never recovered' },
    ]);
  });
});

describe("defaults next to the user's thresholds", () => {
  const sources = (thresholds: ReturnType<typeof withDefaults>) => thresholds.map((t) => `${t.source}${t.isDefault ? ' (default)' : ''}`);
  const chaosDefaults = ['success_rate>=0.9', 'dependency_calls>0'];

  test('none given: the defaults', () => {
    expect(sources(withDefaults([], chaosDefaults))).toEqual(['success_rate>=0.9 (default)', 'dependency_calls>0 (default)']);
  });

  test("a threshold on another metric keeps the success check: 'recovery<5s' does not remove it", () => {
    expect(sources(withDefaults([parseThreshold('recovery<5s')], chaosDefaults))).toEqual([
      'recovery<5s',
      'success_rate>=0.9 (default)',
      'dependency_calls>0 (default)',
    ]);
  });

  test('the user judging the same thing replaces the default: success_rate, error_rate, dependency_calls', () => {
    expect(sources(withDefaults([parseThreshold('success_rate>=0')], chaosDefaults))).toEqual([
      'success_rate>=0',
      'dependency_calls>0 (default)',
    ]);
    expect(sources(withDefaults([parseThreshold('error_rate<50%')], chaosDefaults))).toEqual([
      'error_rate<50%',
      'dependency_calls>0 (default)',
    ]);
    expect(sources(withDefaults([parseThreshold('dependency_calls>=0')], chaosDefaults))).toEqual([
      'dependency_calls>=0',
      'success_rate>=0.9 (default)',
    ]);
  });

  test('a threshold on one provider judges that provider, not all of them: the default stays', () => {
    expect(sources(withDefaults([parseThreshold('dependency_calls{payments}>=0')], chaosDefaults))).toEqual([
      'dependency_calls{payments}>=0',
      'success_rate>=0.9 (default)',
      'dependency_calls>0 (default)',
    ]);
  });

  test('a run at 0% success fails with only a recovery threshold given, and passes only when 0% is asked for', () => {
    const zero = sampleSource({ successRate: 0, recovery: [{ window: 'payments:status@2s-4s', recoveryMs: 0 }] });
    const judged = (user: string[]) => evaluateThresholds(withDefaults(user.map(parseThreshold), chaosDefaults), zero).every((v) => v.ok);
    expect(judged(['recovery<5s'])).toBe(false);
    expect(judged(['recovery<5s', 'success_rate>=0'])).toBe(true);
  });
});

describe('did you mean', () => {
  test('the nearest known name within a quarter of its length, else nothing', () => {
    expect(closestName('sucess_rate', ['success_rate', 'error_rate'])).toBe('success_rate');
    expect(closestName('timout', ['timeout', 'reset', 'close'])).toBe('timeout');
    expect(closestName('rset', ['reset', 'rps'])).toBe('reset');
    expect(closestName('latency', ['success_rate', 'rps', 'p99'])).toBeUndefined();
  });
});

describe('a provider the run does not have', () => {
  test('is named with the nearest known one and the list', () => {
    const threshold = parseThreshold('dependency_calls{opnai}>0');
    expect(thresholdProviderProblem(threshold, ['openai', 'anthropic'])).toBe(
      "threshold 'dependency_calls{opnai}>0': unknown provider 'opnai': did you mean 'openai'? (the run's providers: openai, anthropic)",
    );
    expect(thresholdProviderProblem(threshold, [])).toBe(
      "threshold 'dependency_calls{opnai}>0': unknown provider 'opnai' (the run has no provider)",
    );
    expect(thresholdProviderProblem(parseThreshold('dependency_calls{openai}>0'), ['openai'])).toBeUndefined();
    expect(thresholdProviderProblem(parseThreshold('dependency_calls>0'), [])).toBeUndefined();
  });
});

describe('the metric of an expression, for verdicts written without it', () => {
  test('names the metric, percentile and provider', () => {
    expect(metricOfExpression('p99<300ms')).toEqual({ metric: 'p', percentile: 99 });
    expect(metricOfExpression('dependency_calls{backup}!=0')).toEqual({ metric: 'dependency_calls', provider: 'backup' });
    expect(metricOfExpression('latency<1s')).toBeUndefined();
  });
});
