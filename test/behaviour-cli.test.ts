import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BehaviourDocument } from '../src/model/behaviour.js';
import { BIN, runCli, userEnv } from './helpers/cli.js';
import { nodeCall } from './helpers/proxy.js';
import { waitFor } from './helpers/wait.js';
import { refusedPort, startServer, type TestServer } from './helpers/servers.js';

// The behaviour section of a chaos result, end to end through the CLI: `resil chaos` with a service
// that retries, policy mode over worker threads, campaigns, shards merged, and --correlate's errors.

const scratch = mkdtempSync(join(tmpdir(), 'resil-behaviour-'));

/**
 * A service whose dependency is at 127.0.0.1:`port`: each request calls it (sending `x-attempt: N`
 * and, with `propagate`, the caller's X-Request-Id) and retries a 5xx at once, up to 3 times.
 */
function startService(port: number, propagate: boolean): Promise<TestServer> {
  const agent = new Agent({ keepAlive: true });
  const call = (headers: Record<string, string>) =>
    new Promise<number>((resolve) => {
      const outgoing = httpRequest({ host: '127.0.0.1', port, path: '/v1/quote', agent, headers }, (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode!));
      });
      outgoing.on('error', () => resolve(0));
      outgoing.end();
    });
  return startServer((req, res) => {
    req.resume();
    void (async () => {
      let status = 0;
      for (let attempt = 1; attempt <= 4 && (status === 0 || status >= 500); attempt++) {
        const headers: Record<string, string> = { 'x-attempt': String(attempt) };
        if (propagate) headers['x-request-id'] = req.headers['x-request-id'] as string;
        status = await call(headers);
      }
      res.writeHead(status === 200 ? 200 : 502).end();
    })();
  });
}

const json = (stdout: string) => JSON.parse(stdout) as { behaviour?: BehaviourDocument; requests: { total: number } };

describe('the result of resil chaos carries the behaviour of the dependency calls', () => {
  test('a service that propagates X-Request-Id: every call matched, attempts and retries exact; --correlate off: none', async () => {
    const port = await refusedPort();
    const service = await startService(port, true);
    try {
      // Every first attempt fails: 2 attempts per request, whatever the timing.
      const args = ['chaos', service.url, '--listen', `127.0.0.1:${port}`, '--mock', '--faults', 'status:503'];
      const run = await runCli([...args, '--match-header', 'x-attempt: 1', '-n', '12', '-c', '3', '--json']);
      expect([run.code, run.stderr]).toEqual([0, '']);
      const { behaviour, requests } = json(run.stdout);
      expect(requests.total).toBe(12);
      expect(behaviour).toMatchObject({
        correlate: 'auto',
        correlation: { calls: 24, keyedBy: { 'x-request-id': 24 }, matched: 24 },
        overall: { calls: 24, requests: 12, attempts: { '2': 12 }, retries: 12, retryAfter: { sent: 12, followed: 12, violations: 12 } },
        providers: { dependency: { calls: 24, requests: 12, retries: 12 } },
      });

      const off = await runCli([...args, '--correlate', 'off', '-n', '3', '-c', '1', '-t', 'success_rate>=0', '--json']);
      expect(off.code).toBe(0);
      expect(json(off.stdout).behaviour).toBeUndefined();
    } finally {
      await service.close();
    }
  }, 60_000);

  test("policy mode over 2 worker threads: resil's own requests, each its own id, every call matched", async () => {
    const run = await runCli(['chaos', '--mock', '--workers', '2', '-n', '12', '-c', '4', '--json']);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(json(run.stdout).behaviour).toMatchObject({
      correlation: { calls: 12, keyedBy: { 'x-request-id': 12 }, matched: 12 },
      overall: { requests: 12, attempts: { '1': 12 }, retries: 0 },
    });
  }, 60_000);

  test('two shards of a policy-mode run merge into the sum of their behaviour', async () => {
    // One after the other on one port: the proxy's address is the target that makes them shards of one run.
    const listen = `127.0.0.1:${await refusedPort()}`;
    const common = [
      'chaos',
      '--mock',
      '--listen',
      listen,
      '--failure-rate',
      '0.5',
      '--retry-after',
      '0',
      '--retries',
      '2',
      '--backoff',
      'fixed:1ms',
    ];
    const files = [1, 2].map((i) => join(scratch, `behaviour-shard-${i}.json`));
    for (const [i, file] of files.entries()) {
      const shard = await runCli([
        ...common,
        '-n',
        '20',
        '-c',
        '2',
        '--seed',
        '5',
        '-t',
        'success_rate>=0',
        '--shard',
        `${i + 1}/2`,
        '--out',
        file,
      ]);
      expect(shard.code).toBe(0);
    }
    const [a, b] = files.map((file) => json(readFileSync(file, 'utf8')).behaviour!);
    const merged = await runCli(['report', '--merge', ...files, '--out', join(scratch, 'behaviour-merged.json')]);
    expect(merged.code).toBe(0);
    const whole = json(readFileSync(join(scratch, 'behaviour-merged.json'), 'utf8')).behaviour!;
    expect(whole.correlation.calls).toBe(a!.correlation.calls + b!.correlation.calls);
    expect(whole.correlation.matched).toBe(a!.correlation.matched + b!.correlation.matched);
    expect(whole.overall.requests).toBe(20);
    expect(whole.overall.retries).toBe(a!.overall.retries + b!.overall.retries);
    expect(whole.overall.retries).toBeGreaterThan(0);
    const attempts = { ...a!.overall.attempts };
    for (const [n, count] of Object.entries(b!.overall.attempts)) attempts[n] = (attempts[n] ?? 0) + count;
    expect(whole.overall.attempts).toEqual(attempts);
  }, 60_000);
});

describe('--correlate', () => {
  test('a bad value is one line naming the flag, exit 2, for resil chaos and resil proxy', async () => {
    const chaos = await runCli(['chaos', '--mock', '--correlate', 'bogus', '-n', '1']);
    expect([chaos.code, chaos.stderr.trim().split('\n')]).toEqual([
      2,
      [expect.stringContaining("--correlate 'bogus': expected auto, header:NAME, body or off")],
    ]);
    const proxy = await runCli(['proxy', '--mock', '--correlate', 'header:']);
    expect([proxy.code, proxy.stderr.trim().split('\n')]).toEqual([2, [expect.stringContaining("--correlate 'header:'")]]);
  }, 30_000);

  test('in a campaign: a bad provider or defaults value names the field; a scenario cannot set it', async () => {
    const file = join(scratch, 'bad-correlate.yaml');
    writeFileSync(
      file,
      `
providers:
  quotes: { listen: 9411, mock: true, correlate: header }
defaults:
  correlate: trace
scenarios:
  - name: one
    url: http://127.0.0.1:9410/
    type: chaos
    correlate: body
`,
    );
    const run = await runCli(['run', file]);
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/:3:\d+: providers\.quotes\.correlate: 'header' is not auto, header:NAME, body or off$/),
      expect.stringMatching(/:5:\d+: defaults\.correlate: 'trace' is not auto, header:NAME, body or off$/),
      expect.stringMatching(/:10:\d+: scenarios\[0\]: unknown field 'correlate'/),
    ]);
  }, 30_000);
});

describe('campaigns', () => {
  test('each chaos scenario has its own behaviour; defaults.correlate reaches the providers that set none', async () => {
    const [portA, portB] = [await refusedPort(), await refusedPort()];
    const [byId, byBody] = [await startService(portA, true), await startService(portB, true)];
    try {
      const file = join(scratch, 'campaign.yaml');
      writeFileSync(
        file,
        `
providers:
  keyed: { listen: 127.0.0.1:${portA}, mock: true, correlate: auto }
  plain: { listen: 127.0.0.1:${portB}, mock: true }
defaults:
  correlate: body
  type: chaos
  concurrency: 2
  faults:
    keyed: { faults: 'status:503', match-header: 'x-attempt: 1' }
    plain: { faults: 'status:503', match-header: 'x-attempt: 1' }
scenarios:
  - { name: first, url: '${byId.url}/', requests: 6 }
  - { name: second, url: '${byBody.url}/', requests: 4 }
`,
      );
      const run = await runCli(['run', file, '--json'], { timeoutMs: 60_000 });
      expect([run.code, run.stderr]).toEqual([0, '']);
      const [first, second] = (JSON.parse(run.stdout).scenarios as Array<{ result: { behaviour: BehaviourDocument } }>).map(
        (s) => s.result.behaviour,
      );
      // First: only 'keyed' is called, by ids resil sent (its own correlate: auto).
      expect(first).toMatchObject({
        correlation: { calls: 12, keyedBy: { 'x-request-id': 12 }, matched: 12 },
        providers: { keyed: { calls: 12, requests: 6, attempts: { '2': 6 } }, plain: { calls: 0 } },
      });
      // Second, from nothing: only 'plain', keyed by its body (defaults.correlate) though the ids were there:
      // each call still carried one (matched). (Every call is GET /v1/quote without a body: one key for all,
      // so attempts are not counted here.)
      expect(second).toMatchObject({
        correlation: { calls: 8, keyedBy: { body: 8 }, matched: 8 },
        providers: { keyed: { calls: 0 }, plain: { calls: 8 } },
      });
    } finally {
      await Promise.all([byId.close(), byBody.close()]);
    }
  }, 90_000);
});

describe('resil proxy', () => {
  test('when it stops, it prints its calls as attempts of requests', async () => {
    const child = spawn(process.execPath, [BIN, 'proxy', '--mock', '--faults', 'status:503', '--match-header', 'x-attempt: 1'], {
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    expect(await waitFor(() => /http:\/\/127\.0\.0\.1:\d+/.test(stdout), 10_000)).toBe(true);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout)![0];
    // One request, retried once at once (its first attempt got a 503 with Retry-After: 1); another answered at once.
    for (const [id, attempt] of [
      ['a', '1'],
      ['a', '2'],
      ['b', '2'],
    ]) {
      expect((await nodeCall(url, { headers: { 'x-request-id': id!, 'x-attempt': attempt! } })).status).toBe(attempt === '1' ? 503 : 200);
    }
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(stdout.trim().split('\n').at(-1)).toBe('behaviour: 3 calls as 2 requests · 1 retry (1 sooner than Retry-After)');
  }, 30_000);
});
