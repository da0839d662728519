import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { refusedPort, startSelfSignedHttpsServer, startServer, type TestServer } from '../helpers/servers.js';

// Options a campaign could not set before the option tables (insecure, max-body, the client policy;
// a provider's replay-ignore and redact): each set in a file, and seen to take effect in a run.

const scratch = mkdtempSync(join(tmpdir(), 'resil-options-'));
const file = (name: string, text: string) => {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
};
interface Scenario {
  name: string;
  result: { successRate: number; policy?: { retried: number } };
}
const byName = (stdout: string) => new Map((JSON.parse(stdout).scenarios as Scenario[]).map((s) => [s.name, s.result]));

describe('campaign fields that reach the run', () => {
  let https: TestServer;
  let big: TestServer;
  let flaky: TestServer;
  let echo: TestServer;
  beforeAll(async () => {
    https = await startSelfSignedHttpsServer();
    // 2,000 bytes before the text the check looks for.
    big = await startServer((_req, res) => res.end(`${'x'.repeat(2000)}needle`));
    // Every other request fails: a client that retries once succeeds every time.
    let calls = 0;
    flaky = await startServer((_req, res) => {
      calls++;
      res.writeHead(calls % 2 === 1 ? 503 : 200).end('ok');
    });
    echo = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  afterAll(async () => {
    await Promise.all([https.close(), big.close(), flaky.close(), echo.close()]);
  });

  test('insecure (in defaults and per scenario), max-body, retries/backoff, and a provider that records with redact, then replays with replay-ignore', async () => {
    const recordPort = await refusedPort();
    const har = join(scratch, 'recorded.har');
    const send = (name: string, port: number) => `
  - name: ${name}
    url: http://127.0.0.1:${port}/v1/echo
    method: POST
    headers: { content-type: application/json, x-tenant: tenant-secret-value }
    body: '{"timestamp":"{{uuid}}","prompt":"hi"}'
    requests: 2`;
    const first = file(
      'first.yaml',
      `
providers:
  rec:
    listen: 127.0.0.1:${recordPort}
    upstream: ${echo.url}
    record: ${har}
    redact: x-tenant
defaults:
  insecure: true
  requests: 4
  concurrency: 1
  thresholds: ['success_rate>=0']
scenarios:
  - name: tls-insecure
    url: ${https.url}/
  - name: tls-verified
    url: ${https.url}/
    insecure: false
  - name: body-capped
    url: ${big.url}/
    expect-body: needle
    max-body: 100
  - name: body-whole
    url: ${big.url}/
    expect-body: needle
  - name: retried
    url: ${flaky.url}/
    retries: 1
    backoff: fixed:1ms
  - name: not-retried
    url: ${flaky.url}/${send('record', recordPort)}
`,
    );
    const run = await runCli(['run', first, '--json'], { timeoutMs: 60_000 });
    expect([run.code, run.stderr]).toEqual([0, '']);
    const results = byName(run.stdout);
    expect(results.get('tls-insecure')!.successRate).toBe(1);
    expect(results.get('tls-verified')!.successRate).toBe(0);
    expect(results.get('body-capped')!.successRate).toBe(0);
    expect(results.get('body-whole')!.successRate).toBe(1);
    expect(results.get('retried')).toMatchObject({ successRate: 1, policy: { retried: 4 } });
    expect(results.get('not-retried')).toMatchObject({ successRate: 0.5 });
    expect(results.get('not-retried')!.policy).toBeUndefined();
    const recorded = readFileSync(har, 'utf8');
    expect(recorded).toContain('"x-tenant"');
    expect(recorded).not.toContain('tenant-secret-value');

    // Replay: the recorded bodies carry other timestamps, so only the provider that ignores them matches.
    const [ignoring, strict] = [await refusedPort(), await refusedPort()];
    const second = file(
      'second.yaml',
      `
providers:
  ignoring:
    listen: 127.0.0.1:${ignoring}
    replay: ${har}
    replay-ignore: [timestamp]
  strict:
    listen: 127.0.0.1:${strict}
    replay: ${har}
defaults:
  concurrency: 1
  thresholds: ['success_rate>=0']
scenarios:${send('ignoring', ignoring)}${send('strict', strict)}
`,
    );
    const replay = await runCli(['run', second, '--json'], { timeoutMs: 60_000 });
    expect([replay.code, replay.stderr]).toEqual([0, '']);
    const replayed = byName(replay.stdout);
    expect(replayed.get('ignoring')!.successRate).toBe(1);
    expect(replayed.get('strict')!.successRate).toBe(0);
  }, 90_000);
});
