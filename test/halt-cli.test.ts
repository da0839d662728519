import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { BIN, outputMatches, runCli, userEnv } from './helpers/cli.js';
import { refusedPort, startStatusServer } from './helpers/servers.js';
import { startSut } from './helpers/sut.js';

// The guard rails from the command line: bad values are exit 2 with one line; a chaos run whose
// health probe fails is halted, goes on to its end and says so in its result; `resil proxy` prints a
// status line on stderr when stdout is no TTY.

describe('bad guard-rail flags: exit 2, one line, before anything starts', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--halt-every', 'soon'], /^--halt-every 'soon': expected a duration from 100ms to 24h \('2s'\)$/],
    [['--halt-when', 'error_rate > 1'], /^--halt-when 'error_rate > 1': expected 'prometheus:URL QUERY > NUMBER'/],
    [['--halt-probe', 'localhost:3000/health'], /^--halt-probe: .*did you mean 'http:\/\/localhost:3000\/health'/],
    [['--halt-json', 'status'], /^--halt-json 'status': expected FIELD==VALUE/],
    [['--halt-latency', '500ms'], /^--halt-status, --halt-latency and --halt-json judge a --halt-probe: give one$/],
    [['--max-fault-rate', '2%'], /^--max-fault-rate '2%': expected RATE\/WINDOW/],
    [['--max-faults', '-3'], /^--max-faults: '-3' must be a whole number >= 0$/],
  ];
  test.each(cases)('resil chaos %j', async (flags, message) => {
    const run = await runCli(['chaos', 'http://127.0.0.1:1/x', '--listen', '127.0.0.1:0', '--mock', '-d', '1s', ...flags]);
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.replace(/^resil: /, '')).toMatch(message);
  });

  test('resil proxy --status-every soon', async () => {
    const run = await runCli(['proxy', '--mock', '--status-every', 'soon']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(/^resil: --status-every 'soon': expected a duration up to 24h \('1m', '30s'\) or 0$/);
  });
});

test('a chaos run whose health probe fails is halted: faults stop, the run goes on, the result says when and why', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'resil-halt-'));
  const health = await startStatusServer(503, 'degraded');
  const listen = await refusedPort();
  const service = await startSut(`http://127.0.0.1:${listen}`, 0);
  try {
    const out = path.join(dir, 'result.json');
    const run = await runCli(
      [
        'chaos',
        `${service.url}/x`,
        '--listen',
        `127.0.0.1:${listen}`,
        '--mock',
        '--faults',
        'status:503',
        '--fault-window',
        '1s..10s',
        '-d',
        '3s',
        '-r',
        '50',
        '--halt-probe',
        `${health.url}/health`,
        '--halt-every',
        '300ms',
        '--halt-after',
        '2',
        '-t',
        'success_rate>=0',
        '-o',
        out,
      ],
      { timeoutMs: 30_000 },
    );
    expect(run.stderr).toMatch(
      /^resil: halted at [\d.]+m?s: probe http:\/\/127\.0\.0\.1:\d+\/health: status 503 \(expected 2xx\) \(2 in a row\)/m,
    );
    // The halt is a warning: the exit code is the thresholds' (documented).
    expect(run.code).toBe(0);
    const document = JSON.parse(readFileSync(out, 'utf8'));
    expect(document.halted.cause).toMatch(/status 503 \(expected 2xx\) \(2 in a row\)$/);
    // The probe fails from the start; the second failure comes one interval after the first.
    expect(document.halted.atMs).toBeLessThan(1500);
    expect(document.faults.providers.dependency.injected).toEqual({});
    expect(document.faults.providers.dependency.withheld['status:503']).toBeGreaterThan(0);
    expect(document.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^halted at .*no fault was injected after that$/)]));
    expect(document.successRate).toBe(1);
  } finally {
    await service.close();
    await health.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resil proxy prints a status line on stderr every --status-every when stdout is no TTY', async () => {
  const child = spawn(
    process.execPath,
    [BIN, 'proxy', '--mock', '--max-faults', '5', '--faults', 'status:503', '--status-every', '200ms'],
    {
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    expect(await outputMatches(child, /resil proxy status .*\n.*resil proxy status/)).toBe(true);
    expect(stderr.split('\n')[0]).toMatch(
      /^resil proxy status [\d.]+ms: calls 0 · injected 0 · withheld 0 · upstream errors 0 · injecting · faults left 5 · rss [\d.]+ MB$/,
    );
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('close', resolve));
  }
});

test('resil proxy: the kill switch on its admin API, each change logged on stderr', async () => {
  const child = spawn(process.execPath, [BIN, 'proxy', '--mock', '--faults', 'status:503', '--admin-port', '0'], {
    env: userEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    expect(await outputMatches(child, /admin API on http:\/\/127\.0\.0\.1:\d+/, 'stdout')).toBe(true);
    const admin = /admin API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
    const proxyUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
    expect((await request(`${proxyUrl}/x`)).statusCode).toBe(503);
    const logged = outputMatches(child, /resil proxy: halted by POST \/halt\n/);
    expect(await (await request(`${admin}/halt`, { method: 'POST' })).body.json()).toMatchObject({ halted: true, cause: 'POST /halt' });
    expect(await logged).toBe(true);
    expect((await request(`${proxyUrl}/x`)).statusCode).toBe(200);
    const resumed = outputMatches(child, /resil proxy: resumed by POST \/resume\n/);
    await (await request(`${admin}/resume`, { method: 'POST' })).body.dump();
    expect(await resumed).toBe(true);
    expect((await request(`${proxyUrl}/x`)).statusCode).toBe(503);
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('close', resolve));
  }
});

describe('a campaign’s halt block', () => {
  test('halts every provider from the first chaos scenario on; each chaos result says so', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'resil-halt-run-'));
    const health = await startStatusServer(503, 'degraded');
    const listen = await refusedPort();
    const service = await startSut(`http://127.0.0.1:${listen}`, 0);
    try {
      const file = path.join(dir, 'resil.yaml');
      const out = path.join(dir, 'result.json');
      writeFileSync(
        file,
        [
          'providers:',
          `  dep: { listen: 127.0.0.1:${listen}, mock: true }`,
          'halt:',
          `  probe: ${health.url}/health`,
          '  every: 200ms',
          '  after: 2',
          'defaults:',
          `  url: ${service.url}/x`,
          '  rate: 40',
          '  duration: 1500ms',
          "  thresholds: ['success_rate>=0']",
          'scenarios:',
          '  - name: one',
          '    type: chaos',
          "    faults: { dep: { faults: 'status:503', fault-window: 1s..10s, max-faults: 1000 } }",
          '  - name: two',
          '    type: chaos',
          "    faults: { dep: { faults: 'status:503' } }",
          '',
        ].join('\n'),
      );
      const run = await runCli(['run', file, '--out', out], { timeoutMs: 30_000 });
      expect(run.stderr).toMatch(/^resil: halted at [\d.]+m?s: probe http:\/\/127\.0\.0\.1:\d+\/health: status 503/m);
      expect(run.code).toBe(0);
      const document = JSON.parse(readFileSync(out, 'utf8'));
      const [one, two] = document.scenarios.map((s: { result: { halted?: { atMs: number }; faults: unknown } }) => s.result);
      expect(one.halted.atMs).toBeLessThan(1000);
      expect(two.halted).toEqual({ atMs: 0, cause: one.halted.cause });
      expect(two.faults.providers.dep.injected).toEqual({});
    } finally {
      await service.close();
      await health.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad halt and budget values are reported at their place in the file, exit 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'resil-halt-bad-'));
    try {
      const file = path.join(dir, 'resil.yaml');
      writeFileSync(
        file,
        [
          'providers:',
          '  dep: { listen: 127.0.0.1:0, mock: true }',
          'halt:',
          '  json: status==ok',
          'scenarios:',
          "  - { name: one, type: chaos, url: 'http://127.0.0.1:1/', faults: { dep: { max-fault-rate: '2%/100ms' } } }",
          '',
        ].join('\n'),
      );
      const run = await runCli(['run', file]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('halt: status, latency and json judge a probe: give one');
      expect(run.stderr).toMatch(
        /scenarios\[0\]\.faults\.dep\.max-fault-rate: '2%\/100ms': window '100ms' must be a duration of 1s or more/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
