import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeHistogram } from '../src/metrics/histogram.js';
import { runCli } from './helpers/cli.js';
import { startServer, type TestServer } from './helpers/servers.js';

const scratch = mkdtempSync(join(tmpdir(), 'resil-shard-'));

describe('sharding and merging', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer((_req, res) => res.end('ok'));
  });
  afterAll(() => server.close());

  test('4 shard processes merged give the unsharded count, and the merged histogram is the sum', async () => {
    const before = server.seen;
    const shards = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        runCli(['load', server.url, '-n', '2001', '-c', '8', '--shard', `${i}/4`, '--out', join(scratch, `shard-${i}.json`)]),
      ),
    );
    for (const shard of shards) expect(shard.code).toBe(0);
    expect(shards[0]!.stdout).toContain('closed model, shard 1/4: 2 of 8 connections ·');
    expect(server.seen - before).toBe(2001);
    const documents = [1, 2, 3, 4].map((i) => JSON.parse(readFileSync(join(scratch, `shard-${i}.json`), 'utf8')));
    expect(documents.map((d) => d.requests.total)).toEqual([501, 500, 500, 500]);
    expect(documents.map((d) => d.shard)).toEqual([0, 1, 2, 3].map((index) => ({ index, count: 4 })));

    const merged = await runCli([
      'report',
      '--merge',
      ...[1, 2, 3, 4].map((i) => join(scratch, `shard-${i}.json`)),
      '--out',
      join(scratch, 'merged.json'),
    ]);
    expect(merged.code).toBe(0);
    const document = JSON.parse(readFileSync(join(scratch, 'merged.json'), 'utf8'));
    expect(document).toMatchObject({
      requests: { total: 2001, ok: 2001, failed: 0 },
      shard: null,
      mergedShards: 4,
      statusCodes: { '200': 2001 },
    });
    // Four single-threaded shards are four shards, not four worker threads.
    expect(document.settings.workers).toBe(1);
    expect(merged.stdout).toContain('closed model, 8 connections, 4 shards merged ·');
    expect(merged.stdout).not.toMatch(/workers/);
    const counts = documents.map((d) => decodeHistogram(d.histograms.latency).totalCount);
    expect(decodeHistogram(document.histograms.latency).totalCount).toBe(counts.reduce((a, b) => a + b, 0));
    expect(document.thresholds).toEqual([
      { expression: 'success_rate>=0.95', metric: 'success_rate', kind: 'ratio', ok: true, actual: 1, formatted: '100.00%', default: true },
    ]);
    expect(document.timeline.reduce((sum: number, s: { requests: number }) => sum + s.requests, 0)).toBe(2001);

    const whole = await runCli(['load', server.url, '-n', '2001', '-c', '8', '--json']);
    expect(JSON.parse(whole.stdout).requests.total).toBe(document.requests.total);
  });

  test('the open model shards its schedule: 4 shards of 400 req/s for 1 s are 400 requests', async () => {
    const before = server.seen;
    const shards = await Promise.all(
      [1, 2, 3, 4].map((i) => runCli(['load', server.url, '-r', '400', '-d', '1s', '-c', '8', '--shard', `${i}/4`, '--json'])),
    );
    const totals = shards.map((s) => JSON.parse(s.stdout).requests.total);
    expect(totals).toEqual([100, 100, 100, 100]);
    expect(server.seen - before).toBe(400);
  });

  test('a shard of the open model reports its own part of the connections and the schedule; merged, the parts add up', async () => {
    // 200 ms per answer: 50/s per shard needs about 10 connections, a shard has 4, so requests are dropped.
    const slow = await startServer((_req, res) => setTimeout(() => res.end('ok'), 200));
    const before = slow.seen;
    const files = [1, 2].map((i) => join(scratch, `open-${i}.json`));
    const shards = await Promise.all(
      [1, 2].map((i) =>
        runCli([
          'load',
          slow.url,
          '-r',
          '100',
          '-d',
          '1s',
          '--grace',
          '300ms',
          '-c',
          '4',
          '--max-connections',
          '8',
          '-w',
          '2',
          '--shard',
          `${i}/2`,
          '--out',
          files[i - 1]!,
        ]),
      ),
    );
    await slow.close();
    expect(shards[0]!.stdout).toContain('open model, shard 1/2 of 100/s scheduled, up to 4 of 8 connections, 2 workers ·');
    const documents = files.map((file) => JSON.parse(readFileSync(file, 'utf8')));
    let sent = 0;
    for (const [i, document] of documents.entries()) {
      const { total, cancelled, dropped } = document.requests;
      expect(document.schedule.scheduled).toBe(50);
      expect(total + cancelled + dropped).toBe(50);
      expect(dropped).toBeGreaterThan(0);
      expect(shards[i]!.stdout).toContain('50 scheduled');
      sent += total + cancelled;
    }
    expect(slow.seen - before).toBe(sent);
    const merged = await runCli(['report', '--merge', ...files, '--json']);
    const document = JSON.parse(merged.stdout);
    expect(document.schedule.scheduled).toBe(100);
    expect(document.requests.total + document.requests.cancelled + document.requests.dropped).toBe(100);
    const summary = await runCli(['report', '--merge', ...files]);
    expect(summary.stdout).toContain('open model, 100/s scheduled, up to 8 connections, 2 shards merged, 2 workers each ·');
    // One unsharded result "merged" is one shard.
    const whole = join(scratch, 'whole.json');
    await runCli(['load', server.url, '-n', '10', '--out', whole]);
    const single = await runCli(['report', '--merge', whole]);
    expect(single.code).toBe(0);
    expect(single.stdout).toContain(', 1 shard merged ·');
  });

  test('resil run --shard: campaign results merge scenario by scenario', async () => {
    const campaign = join(scratch, 'campaign.yaml');
    writeFileSync(
      campaign,
      [
        'scenarios:',
        '  - name: a',
        `    url: ${server.url}/a`,
        '    requests: 300',
        '    concurrency: 4',
        '  - name: b',
        `    url: ${server.url}/b`,
        '    rate: 200',
        '    duration: 1s',
        '    concurrency: 4',
        '',
      ].join('\n'),
    );
    const before = server.seen;
    const runs = await Promise.all(
      [1, 2].map((i) => runCli(['run', campaign, '--shard', `${i}/2`, '--out', join(scratch, `run-${i}.json`)])),
    );
    for (const run of runs) expect(run.code).toBe(0);
    expect(server.seen - before).toBe(500);
    const merged = await runCli(['report', '--merge', join(scratch, 'run-1.json'), join(scratch, 'run-2.json'), '--json']);
    expect(merged.code).toBe(0);
    const document = JSON.parse(merged.stdout);
    expect(
      document.scenarios.map((s: { name: string; result: { requests: { total: number } } }) => [s.name, s.result.requests.total]),
    ).toEqual([
      ['a', 300],
      ['b', 200],
    ]);
  });

  test('merging refuses shards of different campaigns, duplicates and missing shards', async () => {
    const a = join(scratch, 'a.json');
    const b = join(scratch, 'b.json');
    await runCli(['load', server.url, '-n', '10', '--shard', '1/2', '--out', a]);
    await runCli(['load', server.url, '-n', '20', '--shard', '2/2', '--out', b]);
    const different = await runCli(['report', '--merge', a, b]);
    expect(different.code).toBe(2);
    expect(different.stderr).toMatch(/not shards of the same campaign/);
    const twice = await runCli(['report', '--merge', a, a]);
    expect(twice.stderr).toMatch(/shard 1\/2 is given twice/);
    const missing = await runCli(['report', '--merge', a]);
    expect(missing.stderr).toMatch(/shard 2\/2 missing/);
  });

  test('--baseline passes on the same result and fails on a regression beyond --max-regression', async () => {
    const fast = join(scratch, 'fast.json');
    const slowFile = join(scratch, 'slow.json');
    await runCli(['load', server.url, '-n', '200', '-c', '2', '--out', fast]);
    const slow = await startServer((_req, res) => setTimeout(() => res.end('ok'), 20));
    await runCli(['load', slow.url, '-n', '100', '-c', '2', '--out', slowFile]);
    await slow.close();
    const same = await runCli(['report', fast, '--baseline', fast]);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('no regression beyond the allowed change');
    const worse = await runCli(['report', slowFile, '--baseline', fast, '--max-regression', '10%']);
    expect(worse.code).toBe(1);
    expect(worse.stdout).toMatch(/p50\s*│.*REGRESSION/);
    const lenient = await runCli(['report', slowFile, '--baseline', fast, '--max-regression', '100000%']);
    expect(lenient.code).toBe(0);
    const bad = await runCli(['report', fast, '--baseline', fast, '--max-regression', 'p99=lots']);
    expect(bad.code).toBe(2);
  });

  test('report renders a saved result and keeps its verdict as the exit code', async () => {
    const failing = await startServer((_req, res) => res.writeHead(500).end());
    const file = join(scratch, 'failing.json');
    await runCli(['load', failing.url, '-n', '5', '--out', file]);
    await failing.close();
    const run = await runCli(['report', file, '--out', join(scratch, 'failing.xml')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('status:500 × 5');
    expect(readFileSync(join(scratch, 'failing.xml'), 'utf8')).toContain('<failure');
    writeFileSync(join(scratch, 'junk.json'), '{"hello":1}');
    const junk = await runCli(['report', join(scratch, 'junk.json')]);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/not a resil result/);
  });
});
