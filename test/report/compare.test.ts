import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLatencyHistogram, encodeHistogram, summarize } from '../../src/metrics/histogram.js';
import { compareResults, compareScenarios, comparisonFailed, parseCompareSettings } from '../../src/report/compare.js';
import { RESULT_SCHEMA, type ResultDocument } from '../../src/model/result.js';
import { runCli } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/servers.js';

const scratch = mkdtempSync(join(tmpdir(), 'resil-compare-'));
const defaults = parseCompareSettings({ maxRegression: [], minChange: [], metrics: [] });

/**
 * A result document built from latencies (ms) as a run would record them; `failed` more requests
 * without a response; the closed model at `concurrency` connections, rps as given.
 */
function resultOf(latenciesMs: number[], options: { failed?: number; rps?: number; concurrency?: number } = {}): ResultDocument {
  const histogram = createLatencyHistogram();
  for (const ms of latenciesMs) histogram.recordValue(Math.round(ms * 1000));
  const ok = latenciesMs.length;
  const total = ok + (options.failed ?? 0);
  const document = {
    schema: RESULT_SCHEMA,
    model: 'closed',
    settings: { concurrency: options.concurrency ?? 10 },
    requests: { total, ok, failed: total - ok, cancelled: 0 },
    successRate: total === 0 ? null : ok / total,
    rps: options.rps ?? 1000,
    latencyMs: summarize(histogram),
    histograms: { latency: encodeHistogram(histogram), serviceTime: null, timeline: [] },
  } as unknown as ResultDocument;
  histogram.destroy();
  return document;
}

/** n latencies spread evenly over [from, to] ms. */
function spread(n: number, from: number, to: number): number[] {
  return Array.from({ length: n }, (_, i) => from + ((to - from) * i) / Math.max(1, n - 1));
}

const row = (rows: ReturnType<typeof compareResults>, metric: string) => rows.find((r) => r.metric === metric)!;

describe('comparing with a baseline: signal, not noise', () => {
  test('default metrics are success_rate, rps, p50, p95, p99; --metrics adds the noisy ones', () => {
    const same = resultOf(spread(1000, 4, 6));
    expect(compareResults(same, same, defaults).map((r) => r.metric)).toEqual(['success_rate', 'rps', 'p50', 'p95', 'p99']);
    const more = parseCompareSettings({ maxRegression: [], minChange: [], metrics: ['p999,max'] });
    expect(compareResults(same, same, more).map((r) => r.metric)).toEqual(['success_rate', 'rps', 'p50', 'p95', 'p99', 'p999', 'max']);
    expect(compareResults(same, same, defaults).every((r) => !r.regression && r.note === 'same')).toBe(true);
  });

  test('a latency change must pass the relative limit and the absolute floor', () => {
    // 0.2 ms → 0.4 ms: +100%, but 0.2 ms is under the 1 ms floor.
    const fast = compareResults(resultOf(spread(20_000, 0.4, 0.4)), resultOf(spread(20_000, 0.2, 0.2)), defaults);
    expect(row(fast, 'p50')).toMatchObject({ regression: false, note: 'under 1.00ms' });
    // 20 ms → 21.5 ms: 1.5 ms, but within 10%.
    const slow = compareResults(resultOf(spread(20_000, 21.5, 21.5)), resultOf(spread(20_000, 20, 20)), defaults);
    expect(row(slow, 'p50')).toMatchObject({ regression: false, note: 'within 10%' });
    // 20 ms → 24 ms: beyond both.
    const worse = compareResults(resultOf(spread(20_000, 24, 24)), resultOf(spread(20_000, 20, 20)), defaults);
    expect(row(worse, 'p50')).toMatchObject({ regression: true, note: '' });
    // The floor is settable, per metric too.
    const lenient = parseCompareSettings({ maxRegression: [], minChange: ['5ms'], metrics: [] });
    expect(row(compareResults(resultOf(spread(20_000, 24, 24)), resultOf(spread(20_000, 20, 20)), lenient), 'p50').regression).toBe(false);
    const strictP50 = parseCompareSettings({ maxRegression: [], minChange: ['5ms', 'p50=0.1ms'], metrics: [] });
    expect(row(compareResults(resultOf(spread(20_000, 0.4, 0.4)), resultOf(spread(20_000, 0.2, 0.2)), strictP50), 'p50').regression).toBe(
      true,
    );
  });

  test('a tail percentile of a few hundred requests moves within its sampling interval; of many, it does not', () => {
    // The same two shapes: 99% at 5 ms, the slowest 1% at 10 ms (baseline) or 20 ms (current).
    const shape = (n: number, tailMs: number) => [...spread(n * 0.98, 5, 5), ...spread(n * 0.02, tailMs, tailMs)];
    const few = compareResults(resultOf(shape(200, 20)), resultOf(shape(200, 10)), defaults);
    expect(row(few, 'p99')).toMatchObject({ regression: false, note: 'within noise' });
    const many = compareResults(resultOf(shape(50_000, 20)), resultOf(shape(50_000, 10)), defaults);
    expect(row(many, 'p99')).toMatchObject({ regression: true });
  });

  test('success rate: compared in points, with a floor and beyond chance', () => {
    const ok = (n: number, failed: number) => resultOf(spread(n - failed, 5, 5), { failed });
    // 0.3 points fewer: under the 0.5-point floor.
    expect(row(compareResults(ok(10_000, 30), ok(10_000, 0), defaults), 'success_rate')).toMatchObject({
      regression: false,
      note: 'under 0.5 pts',
    });
    // 0.7 points fewer: over the floor, but with 1,000 requests each the 95% intervals overlap.
    expect(row(compareResults(ok(1000, 7), ok(1000, 0), defaults), 'success_rate')).toMatchObject({
      regression: false,
      note: 'within noise',
    });
    // The same share of 100,000 requests is not chance.
    const many = row(compareResults(ok(20_000, 140), ok(20_000, 0), defaults), 'success_rate');
    expect(many.regression).toBe(true);
    expect(many.change).toBeCloseTo(-0.007, 6);
  });

  test('rps in the closed model: a drop is a regression only when the time per request grew by more than the floor', () => {
    const latencies = spread(1000, 1, 1);
    // 10 connections, 40,000 → 30,000 req/s: 0.25 → 0.33 ms per request per connection, under 1 ms.
    const fast = compareResults(resultOf(latencies, { rps: 30_000 }), resultOf(latencies, { rps: 40_000 }), defaults);
    expect(row(fast, 'rps')).toMatchObject({ regression: false, note: 'under 1.00ms per request' });
    // 10 connections, 1,000 → 500 req/s: 10 → 20 ms per request.
    expect(row(compareResults(resultOf(latencies, { rps: 500 }), resultOf(latencies, { rps: 1000 }), defaults), 'rps').regression).toBe(
      true,
    );
    // 4 connections, 578 → 437 req/s (2.2 ms more per request), because the machine paused once for
    // 100 ms in a run of 300 requests: within the interval the latencies' spread gives.
    const steady = resultOf(spread(300, 6.9, 6.9), { rps: 578, concurrency: 4 });
    const paused = resultOf([...spread(296, 6, 6), ...spread(4, 100, 100)], { rps: 437, concurrency: 4 });
    expect(row(compareResults(paused, steady, defaults), 'rps')).toMatchObject({ regression: false, note: 'within noise' });
    // The same drop with every request slower is a regression.
    expect(row(compareResults(resultOf(spread(300, 9.2, 9.2), { rps: 437, concurrency: 4 }), steady, defaults), 'rps').regression).toBe(
      true,
    );
    // A floor in req/s replaces it.
    const floor = parseCompareSettings({ maxRegression: [], minChange: ['rps=20000'], metrics: [] });
    expect(row(compareResults(resultOf(latencies, { rps: 500 }), resultOf(latencies, { rps: 1000 }), floor), 'rps')).toMatchObject({
      regression: false,
      note: 'under 20000 req/s',
    });
  });

  test('scenarios are matched by name; one missing from the result fails, a new one is reported', () => {
    const a = resultOf(spread(1000, 5, 6));
    const rows = compareScenarios(
      [
        { name: 'checkout', document: a },
        { name: 'search', document: a },
      ],
      [
        { name: 'search', document: a },
        { name: 'login', document: a },
      ],
      defaults,
    );
    expect(rows.map((r) => [r.scenario, r.status])).toEqual([
      ['checkout', 'new'],
      ['search', 'compared'],
      ['login', 'missing'],
    ]);
    expect(comparisonFailed(rows)).toBe(true);
    expect(comparisonFailed(rows.filter((r) => r.status !== 'missing'))).toBe(false);
  });

  test('one named scenario against a baseline of another is refused; unnamed runs compare whatever their names', () => {
    const a = resultOf(spread(1000, 5, 6));
    const named = (scenario: string) => ({ name: scenario, document: { ...a, scenario } });
    expect(() => compareScenarios([named('steady-one')], [named('chaos-two')], defaults)).toThrow(
      "--baseline: comparing scenario 'steady-one' against baseline scenario 'chaos-two' says nothing; give a baseline of 'steady-one'",
    );
    expect(compareScenarios([named('steady-one')], [named('steady-one')], defaults)[0]!.status).toBe('compared');
    expect(compareScenarios([{ name: 'load', document: a }], [{ name: 'chaos', document: a }], defaults)[0]!.status).toBe('compared');
  });

  test('bad settings are usage errors naming the part', () => {
    const parse = (maxRegression: string[], minChange: string[], metrics: string[]) => () =>
      parseCompareSettings({ maxRegression, minChange, metrics });
    expect(parse([], ['lots'], [])).toThrow(/--min-change 'lots': expected a duration/);
    expect(parse([], ['rps=fast'], [])).toThrow(/--min-change 'rps=fast': expected requests per second/);
    expect(parse([], ['success_rate=1'], [])).toThrow(/expected percentage points/);
    expect(parse([], ['p42=1ms'], [])).toThrow(/unknown metric 'p42'/);
    expect(parse([], [], ['p99,median'])).toThrow(/--metrics: unknown metric 'median'/);
    expect(parse(['success_rate=5%'], [], [])).toThrow(/percentage points; use --min-change success_rate=/);
  });
});

describe('resil report --baseline on real campaign runs', () => {
  let normal: TestServer;
  let slower: TestServer;
  afterAll(async () => {
    await normal.close();
    await slower.close();
  });

  /**
   * A campaign of two scenarios against `server`, run with `resil run`: the closed model, and the open
   * model with about 10 requests in flight (100/s × 100 ms) on 12 connections, so that twice as slow
   * also shows as requests waiting for a connection.
   */
  async function runCampaign(server: TestServer, file: string, extra: string[] = []): Promise<void> {
    const campaign = join(scratch, `${file}.yaml`);
    writeFileSync(
      campaign,
      [
        'scenarios:',
        '  - name: closed',
        `    url: ${server.url}/c`,
        '    requests: 160',
        '    concurrency: 16',
        '  - name: open',
        `    url: ${server.url}/o`,
        '    rate: 100',
        '    duration: 1s',
        '    concurrency: 12',
        '',
      ].join('\n'),
    );
    const run = await runCli(['run', campaign, '--out', join(scratch, `${file}.json`), ...extra]);
    expect(run.code).toBe(0);
  }
  const path = (file: string) => join(scratch, `${file}.json`);

  // The two runs compared as equals go side by side, so that both meet the same machine: on two
  // cores shared with other work, its load changes from one second to the next by more than any
  // default limit allows. Twice as slow is a change far beyond that.
  beforeAll(async () => {
    // A fixed delay large against the machine's scheduling delays (a few ms on two busy cores), so
    // that they stay within 10%, and twice as slow is a change no limit hides.
    normal = await startServer((_req, res) => setTimeout(() => res.end('ok'), 100));
    slower = await startServer((_req, res) => setTimeout(() => res.end('ok'), 200));
    await Promise.all([runCampaign(normal, 'first'), runCampaign(normal, 'second')]);
    await Promise.all([runCampaign(slower, 'slow'), runCampaign(normal, 'only-closed', ['--scenario', 'closed'])]);
  }, 40_000);

  test('a result against itself passes', async () => {
    const same = await runCli(['report', path('first'), '--baseline', path('first')]);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('no regression beyond the allowed change');
  });

  test('two runs of one campaign against the same server pass, scenario by scenario', async () => {
    const again = await runCli(['report', path('second'), '--baseline', path('first')]);
    expect(again.stdout).toContain('no regression beyond the allowed change');
    expect(again.stdout).toMatch(/closed\s*│ p50/);
    expect(again.stdout).toMatch(/open\s*│ p99/);
    expect(again.code).toBe(0);
  });

  test('the same campaign against a server twice as slow fails, naming the metric and the scenario', async () => {
    const worse = await runCli(['report', path('slow'), '--baseline', path('first')]);
    expect(worse.stdout).toMatch(/closed\s*│ p50\s*│.*REGRESSION/);
    expect(worse.stdout).toMatch(/^regression: .*p50.* in 'closed'/m);
    expect(worse.code).toBe(1);
    const json = JSON.parse((await runCli(['report', path('slow'), '--baseline', path('first'), '--json'])).stdout);
    expect(json.comparison.map((s: { scenario: string; status: string }) => [s.scenario, s.status])).toEqual([
      ['closed', 'compared'],
      ['open', 'compared'],
    ]);
    expect(json.comparison[0].metrics.find((m: { metric: string }) => m.metric === 'p50')).toMatchObject({ regression: true });
  });

  test('a scenario of the baseline missing from the result fails the comparison', async () => {
    const partial = await runCli(['report', path('only-closed'), '--baseline', path('first')]);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toMatch(/open\s*│ MISSING: in the baseline, not in this result/);
    expect(partial.stdout).toMatch(/^regression: .*scenario 'open' missing$/m);
  });

  test('a scenario against a baseline of another scenario: exit 2, one line, nothing rendered', async () => {
    const campaign = JSON.parse(readFileSync(path('first'), 'utf8'));
    for (const { name, result } of campaign.scenarios) writeFileSync(path(`alone-${name}`), JSON.stringify(result));
    const mismatch = await runCli(['report', path('alone-closed'), '--baseline', path('alone-open')]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stdout).toBe('');
    expect(mismatch.stderr).toBe(
      "resil: --baseline: comparing scenario 'closed' against baseline scenario 'open' says nothing; give a baseline of 'closed' (resil run CAMPAIGN --scenario closed --out FILE.json)\n",
    );
  });

  test('rendering a campaign result keeps the scenario names and the verdict table', async () => {
    const render = await runCli(['report', path('first')]);
    expect(render.code).toBe(0);
    expect(render.stdout).toContain('── scenario 1/2: closed');
    expect(render.stdout).toContain('── scenario 2/2: open');
    expect(render.stdout).toMatch(/scenario\s*│ requests\s*│ success/);
    expect(render.stdout).toMatch(/│ closed\s*│ 160\s*│ 100\.00%/);
    expect(render.stdout).toContain('campaign passed: 2 of 2 scenarios');
    expect(JSON.parse(readFileSync(path('first'), 'utf8')).scenarios).toHaveLength(2);
  });

  test('bad comparison flags are one line on stderr and exit 2', async () => {
    const bad = await runCli(['report', path('first'), '--baseline', path('first'), '--min-change', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--min-change 'soon'/);
  });
});
