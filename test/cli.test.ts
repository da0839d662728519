import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { refusedPort, startServer, startStatusServer, type TestServer } from './helpers/servers.js';
import { waitFor } from './helpers/wait.js';

const ANSI = /\u001b\[/;
const STACK = /\n\s+at /;

describe('resil load, end to end through the built CLI', () => {
  let server: TestServer;
  const scratch = mkdtempSync(join(tmpdir(), 'resil-cli-'));
  beforeAll(async () => {
    server = await startServer((_req, res) => res.end('{"status":"ok"}'));
  });
  afterAll(() => server.close());

  test('exit 0 when thresholds pass; summary on stdout, plain when not a TTY', async () => {
    const run = await runCli(['load', server.url, '-n', '200', '-c', '4', '-t', 'p99<2s', '-t', 'success_rate>=0.99']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('200 total · 200 ok · 0 failed');
    expect(run.stdout).toContain('p99<2s');
    expect(run.stdout).toContain('all 2 thresholds passed');
    expect(run.stdout).not.toMatch(ANSI);
  });

  test('the default threshold is shown as a default', async () => {
    const run = await runCli(['load', server.url, '-n', '10']);
    expect(run.stdout).toContain('success_rate>=0.95 (default)');
  });

  test('exit 1 when a threshold fails, with the measured value', async () => {
    const failing = await startStatusServer(500);
    const run = await runCli(['load', failing.url, '-n', '20', '-t', 'success_rate>=0.9']);
    await failing.close();
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/success_rate>=0\.9\s*│\s*0\.00%\s*│\s*FAIL/);
    expect(run.stdout).toContain('status:500 × 20');
  });

  // One test per input: each is a spawn of its own (about half a second, several on a busy machine).
  const badInputs = [
    ['load', 'ftp://127.0.0.1/'],
    ['load', '{url}', '-c', '0'],
    ['load', '{url}', '-c', 'many'],
    ['load', '{url}', '-d', '5parsecs'],
    ['load', '{url}', '-H', 'NoColon'],
    ['load', '{url}', '--body-file', '/nonexistent/file.json'],
    ['load', '{url}', '--timeout', '0'],
    ['load', '{url}', '-t', 'latency<3s'],
    // Chaos metrics: a load run has no proxies to measure them.
    ['load', '{url}', '-t', 'dependency_calls>0'],
    ['load', '{url}', '-t', 'amplification<2'],
    ['load', '{url}', '-t', 'recovery<5s'],
    ['load', '{url}', '--rate', 'fast'],
    ['load', '{url}', '--no-such-flag'],
    ['load'],
    ['load', '{url}', '--out', '{scratch}/missing-dir/result.json'],
    ['load', '{url}', '--out', '{scratch}/result.txt'],
  ];
  test.each(badInputs.map((template) => [template.join(' '), template]))(
    'exit 2 with one line and no stack for bad input, before any request: resil %s',
    async (_name, template) => {
      const args = template.map((arg) => arg.replace('{url}', server.url).replace('{scratch}', scratch));
      const before = server.seen;
      const run = await runCli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^resil: /);
      expect(run.stderr).not.toMatch(STACK);
      expect(server.seen).toBe(before);
    },
  );

  test('a problem whose message names its options is printed as it is, with no flag before it', async () => {
    const both = await runCli(['load', server.url, '--body', 'x', '--body-file', 'y']);
    expect({ code: both.code, stderr: both.stderr.trim() }).toEqual({ code: 2, stderr: 'resil: give --body or --body-file, not both' });
    const fixed = await runCli(['load', server.url, '--rate', '10', '-n', '20', '-d', '5s']);
    expect(fixed.stderr.trim()).toBe('resil: with --rate give --requests or --duration, not both: the rate fixes one from the other');
  });

  test('exit 3 when no connection can be made; the dead target is a result, not a crash', async () => {
    const port = await refusedPort();
    const run = await runCli(['load', `http://127.0.0.1:${port}/`, '-n', '30']);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('refused × 30');
    expect(run.stderr).toContain('could not run: no connection');
    expect(run.stderr).not.toMatch(STACK);
  });

  test('--json prints the result document on stdout and nothing else', async () => {
    const run = await runCli(['load', server.url, '-n', '50', '--json']);
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document).toMatchObject({
      schema: 'resil/result@1',
      command: 'load',
      requests: { total: 50, ok: 50, failed: 0 },
      successRate: 1,
      statusCodes: { '200': 50 },
      thresholds: [{ expression: 'success_rate>=0.95', ok: true, actual: 1, default: true }],
    });
    for (const key of ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max']) expect(typeof document.latencyMs[key]).toBe('number');
    expect(typeof document.histograms.latency).toBe('string');
  });

  test('--json keeps the exit code of the verdict', async () => {
    const failing = await startStatusServer(503);
    const run = await runCli(['load', failing.url, '-n', '5', '--json']);
    await failing.close();
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).errors).toEqual({ 'status:503': 5 });
  });

  test('--out writes the result document', async () => {
    const out = join(scratch, 'result.json');
    const run = await runCli(['load', server.url, '-n', '25', '--out', out]);
    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).requests.total).toBe(25);
  });

  test('--workers 2 splits the run and merges the counts exactly', async () => {
    const before = server.seen;
    const run = await runCli(['load', server.url, '-n', '1001', '-c', '6', '--workers', '2', '--json']);
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document.requests.total).toBe(1001);
    expect(server.seen - before).toBe(1001);
    expect(document.settings.workers).toBe(2);
  });

  test('--workers 2 in the open model keeps the whole schedule', async () => {
    const before = server.seen;
    const run = await runCli(['load', server.url, '-r', '300', '-d', '1s', '-c', '4', '-w', '2', '--json']);
    const document = JSON.parse(run.stdout);
    expect(document.requests.total).toBe(300);
    expect(server.seen - before).toBe(300);
  });

  test('secret headers and URL credentials never appear in any output', async () => {
    const secret = 'sk-live-planted-secret-9f8e7d';
    const out = join(scratch, 'secret.json');
    const run = await runCli([
      'load',
      `http://user:${secret}@127.0.0.1:${server.port}/?api_key=${secret}`,
      '-n',
      '5',
      '-H',
      `Authorization: Bearer ${secret}`,
      '-H',
      `x-api-key: ${secret}`,
      '-H',
      `x-custom-token: ${secret}`,
      '--redact',
      'x-custom-token',
      '--out',
      out,
    ]);
    expect(run.code).toBe(0);
    for (const text of [run.stdout, run.stderr, readFileSync(out, 'utf8')]) expect(text).not.toContain(secret);
    const document = JSON.parse(readFileSync(out, 'utf8'));
    expect(document.settings.headers).toEqual({ Authorization: '[redacted]', 'x-api-key': '[redacted]', 'x-custom-token': '[redacted]' });
  });

  test('SIGINT stops the run, writes a partial report marked interrupted, exits 130', async () => {
    const slow = await startServer((_req, res) => setTimeout(() => res.end('ok'), 20));
    const out = join(scratch, 'interrupted.json');
    let signalledAt = 0;
    const run = await runCli(['load', slow.url, '-c', '4', '-d', '30s', '--grace', '1s', '--out', out], {
      // The signal goes once requests arrive (the run is under way, its handlers installed), however
      // long start-up took on this machine.
      onStart: (child) =>
        void waitFor(() => slow.seen > 0, 15_000).then((running) => {
          if (!running) return;
          signalledAt = Date.now();
          child.kill('SIGINT');
        }),
    });
    await slow.close();
    expect(signalledAt).toBeGreaterThan(0);
    expect(run.code).toBe(130);
    // Stopped within the grace period of the signal (tolerance: 1 s grace + 1.5 s for closing and writing).
    expect(Date.now() - signalledAt).toBeLessThan(2500);
    expect(existsSync(out)).toBe(true);
    const document = JSON.parse(readFileSync(out, 'utf8'));
    expect(document.interrupted).toBe(true);
    expect(document.requests.total).toBeGreaterThan(0);
    expect(run.stdout).toContain('INTERRUPTED');
  });
});
