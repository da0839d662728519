import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultDocument } from '../src/model/result.js';
import { mergeResults } from '../src/report/merge.js';
import { runCli } from './helpers/cli.js';
import { startServer, type TestServer } from './helpers/servers.js';

const scratch = mkdtempSync(join(tmpdir(), 'resil-live-'));

/** Answers 200, or 503 from `fromMs` to `toMs` after its first request (the run's start, within a few ms). */
async function startOutageServer(fromMs: number, toMs = Number.POSITIVE_INFINITY): Promise<TestServer> {
  let firstMs: number | undefined;
  return startServer((_req, res) => {
    firstMs ??= performance.now();
    const at = performance.now() - firstMs;
    res.writeHead(at >= fromMs && at < toMs ? 503 : 200).end('x');
  });
}

let server: TestServer;
afterEach(() => server?.close());

describe('abort on fail', () => {
  test.each([1, 2])('a run that ends on its own is not aborted by its last, partial second (%i thread(s))', async (workers) => {
    // Failing from 2.5 s of a 3 s run: the abort's delay (2.9 s) passes only in the second the run's end closes.
    server = await startOutageServer(2500);
    const run = await runCli([
      'load',
      `${server.url}/`,
      '-r',
      '50',
      '-d',
      '3s',
      '-w',
      String(workers),
      '-t',
      'success_rate>=0.9 abort after 2.9s',
      '--json',
    ]);
    const document = JSON.parse(run.stdout) as ResultDocument;
    expect(document.abortedBy).toBeUndefined();
    expect(document.requests.total + document.requests.dropped + document.requests.cancelled).toBe(150);
    expect(run.code).toBe(1);
  });

  // Judged on closed seconds: a failure is seen at most 1 s (its second) + 0.1 s (the tick) after it happens.
  test.each([1, 2])('a run failing from 1 s stops within after + 1 s and writes every output (%i thread(s))', async (workers) => {
    server = await startOutageServer(1000);
    const out = (ext: string) => join(scratch, `abort-${workers}.${ext}`);
    const summary = out('md');
    writeFileSync(summary, '');
    const started = performance.now();
    const run = await runCli(
      [
        'load',
        `${server.url}/`,
        '-r',
        '50',
        '-d',
        '30s',
        '-w',
        String(workers),
        '-t',
        'success_rate>=0.9 abort after 2s',
        '-t',
        'p99<1s',
        ...['json', 'xml', 'html', 'prom'].flatMap((ext) => ['-o', out(ext)]),
      ],
      { env: { GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true' } },
    );
    const wallMs = performance.now() - started;
    expect(run.code).toBe(99);
    const document = JSON.parse(readFileSync(out('json'), 'utf8')) as ResultDocument;
    // Failing since ~1 s; judged for the abort from 2 s: the second ending at 2 s (or 3 s when the outage's first second still passed).
    expect(document.abortedBy).toMatchObject({ threshold: 'success_rate>=0.9 abort after 2s' });
    expect([2000, 3000]).toContain(document.abortedBy!.atMs);
    // Stopped within after + 1 s (+ 0.1 s tick, + 0.4 s tolerance for a loaded 2-core machine); the answers are immediate, so no grace.
    expect(document.durationMs).toBeLessThan(2000 + 1000 + 500);
    expect(wallMs).toBeLessThan(15_000);
    expect(document.thresholds[0]).toMatchObject({ ok: false, aborted: { atMs: document.abortedBy!.atMs } });
    expect(document.thresholds[1]).toMatchObject({ expression: 'p99<1s', ok: true });
    expect(run.stdout).toMatch(/ABORTED at [23]s/);
    expect(run.stdout).toMatch(/aborted: stopped at [23]s by threshold success_rate>=0\.9 abort after 2s \(\d+\.\d+% then\)/);
    expect(readFileSync(out('xml'), 'utf8')).toMatch(/<property name="abortedBy" value="stopped at [23]s by threshold/);
    expect(readFileSync(out('html'), 'utf8')).toContain('ABORTED');
    expect(readFileSync(out('prom'), 'utf8')).toMatch(
      /resil_aborted_seconds\{scenario="load",threshold="success_rate>=0.9 abort after 2s"\} [23]\n/,
    );
    expect(readFileSync(summary, 'utf8')).toMatch(/🛑.*\n[\s\S]*\*\*aborted: stopped at [23]s/);
  });

  test('--abort-on-fail aborts on the default threshold too', async () => {
    server = await startOutageServer(0);
    const run = await runCli(['load', `${server.url}/`, '-r', '20', '-d', '20s', '--abort-on-fail', '--json']);
    expect(run.code).toBe(99);
    const document = JSON.parse(run.stdout) as ResultDocument;
    expect(document.abortedBy).toMatchObject({ threshold: 'success_rate>=0.95', atMs: 1000 });
  });

  test('a campaign: the aborted scenario stops, the scenarios after it are not run', async () => {
    server = await startOutageServer(0);
    const file = join(scratch, 'abort.yaml');
    writeFileSync(
      file,
      [
        'scenarios:',
        '  - name: first',
        `    url: ${server.url}/`,
        '    rate: 20',
        '    duration: 20s',
        '    thresholds:',
        '      - p99<1s',
        '      - { expr: success_rate>=0.9, abort: true, after: 1s }',
        '  - name: second',
        `    url: ${server.url}/`,
        '    requests: 5',
        '',
      ].join('\n'),
    );
    const json = join(scratch, 'abort-campaign.json');
    const run = await runCli(['run', file, '-o', json]);
    expect(run.code).toBe(99);
    const campaign = JSON.parse(readFileSync(json, 'utf8')) as { scenarios: Array<{ name: string; result: ResultDocument }> };
    expect(campaign.scenarios.map((s) => s.name)).toEqual(['first']);
    expect(campaign.scenarios[0]!.result.abortedBy).toMatchObject({ threshold: 'success_rate>=0.9 abort after 1s', atMs: 1000 });
    expect(run.stdout).toMatch(/ABORTED/);
    expect(run.stdout).toMatch(/campaign failed: first failed, 1 not run \(first stopped by success_rate>=0\.9 abort after 1s\)/);
  });

  test('bad grammar is exit 2 with one line, before any request', async () => {
    server = await startOutageServer(0);
    const run = await runCli(['load', `${server.url}/`, '-n', '5', '-t', 'p99<300ms ovr 10s']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      "resil: threshold 'p99<300ms ovr 10s': unexpected 'ovr' after the value: did you mean 'over'? " +
        "(after the value: 'over DURATION', then 'abort' or 'abort after DURATION')",
    ]);
    expect(server.seen).toBe(0);
  });
});

describe('rolling windows', () => {
  // The 10 s outage in 2 minutes (1/12 of the run), shortened to 1 s in 12 s at the same ratio to keep
  // the suite quick; the 2-minute case itself runs on a made-up clock in test/thresholds/live.test.ts.
  test('a 1 s outage in a 12 s run: the run passes 90%, its worst 3 s window fails and says when', async () => {
    server = await startOutageServer(5000, 6000);
    const json = join(scratch, 'window.json');
    const run = await runCli(
      ['load', `${server.url}/`, '-r', '50', '-d', '12s', '-t', 'success_rate>=0.9', '-t', 'success_rate>=0.9 over 3s', '-o', json],
      { timeoutMs: 30_000 },
    );
    expect(run.code).toBe(1);
    const document = JSON.parse(readFileSync(json, 'utf8')) as ResultDocument;
    const [whole, window] = document.thresholds;
    // ~550 of 600 passed (91.7%): the whole run passes.
    expect(whole).toMatchObject({ expression: 'success_rate>=0.9', ok: true });
    // Any 3 s window holding the outage second: ~100 of 150 (66.7%); the clocks of server and run differ by a few ms.
    expect(window).toMatchObject({ expression: 'success_rate>=0.9 over 3s', ok: false });
    expect(window!.actual!).toBeGreaterThan(0.6);
    expect(window!.actual!).toBeLessThan(0.75);
    expect(window!.window!.lengthMs).toBe(3000);
    expect(window!.window!.endMs - window!.window!.startMs).toBe(3000);
    expect(window!.window!.startMs).toBeLessThanOrEqual(5000);
    expect(window!.window!.endMs).toBeGreaterThanOrEqual(6000);
    expect(run.stdout).toMatch(/success_rate>=0\.9 over 3s\s*│\s*\d+\.\d+% \(worst 3s window \d+s\.\.\d+s\)/);

    // Live evaluation changes no final verdict: judged again from the stored result alone (its seconds and
    // histograms, as `resil report --merge` does), every verdict is the same.
    expect(mergeResults([document]).thresholds).toEqual(document.thresholds);
  }, 40_000);
});

describe('a status line for CI logs', () => {
  test('stderr no TTY: one line every --status-every, naming the thresholds failing so far; a bad value is exit 2', async () => {
    const healthy = await startServer();
    try {
      const run = await runCli(['load', healthy.url, '-r', '40', '-d', '2.6s', '--status-every', '1s', '-t', 'rps>1000']);
      const lines = run.stderr.trim().split('\n');
      // At 1 s and at 2 s (the run's last partial second is not a status line of its own).
      expect(lines).toHaveLength(2);
      // At 1 s the first second may not be judged yet (closed seconds are, within 0.1 s); by 2 s it is.
      expect(lines[0]).toMatch(/^resil: 1\.\d\ds · \d+ done · \d+ req\/s · 0 errors · \d+ in flight( · failing: rps>1000)?$/);
      expect(lines[1]).toMatch(/^resil: 2\.\d\ds · \d+ done · \d+ req\/s · 0 errors · \d+ in flight · failing: rps>1000$/);
      const quiet = await runCli(['load', healthy.url, '-r', '40', '-d', '1.5s', '--status-every', '0']);
      expect(quiet.stderr).toBe('');
      const bad = await runCli(['load', healthy.url, '-n', '1', '--status-every', 'often']);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toEqual(["resil: --status-every 'often': expected a duration up to 24h ('1m', '30s') or 0"]);
    } finally {
      await healthy.close();
    }
  }, 20_000);
});
