import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { refusedPort, startServer, type TestServer } from './helpers/servers.js';
import { startSut } from './helpers/sut.js';

const scratch = mkdtempSync(join(tmpdir(), 'resil-run-'));

/** The demo's thresholds on the gateway's provider calls (#12): the resilient gateway holds them all. */
const DEPENDENCY_VERDICTS = [
  'retry_after_violations==0',
  'attempts_max<=4',
  'dependency_timeout<=500ms',
  'breaker_open_after<2s',
  'failover_delay_p99<1500ms',
];

/** Faults the demo's streamed scenario injects after the first token: each fails its answer as `stream` in the resilient gateway. */
const midAnswerFaults = (injected: Record<string, number>) =>
  Object.entries(injected)
    .filter(([fault]) => /^(stream-error:4|truncate:|stall:)/.test(fault))
    .reduce((sum, [, count]) => sum + count, 0);

describe('resil demo', () => {
  test('the resilient gateway holds its thresholds (exit 0); the naive one fails the gate (exit 1)', async () => {
    // --quick: the same campaign at half length (12 s, then 7 s of streams); both run at once to keep the suite short.
    const [resilient, naive] = await Promise.all([
      runCli(['demo', '--quick', '--json'], { timeoutMs: 40_000 }),
      runCli(['demo', '--quick', '--naive', '--json'], { timeoutMs: 40_000 }),
    ]);
    expect(resilient.code).toBe(0);
    const passed = JSON.parse(resilient.stdout);
    expect(passed).toMatchObject({ schema: 'resil/campaign-result@1', ok: true });
    const result = passed.scenarios[0].result;
    expect(result.command).toBe('chaos');
    expect(result.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/complete$/);
    expect(result.recovery).toHaveLength(3);
    expect(result.faults.injected.down).toBe(2); // phase 3: a and b
    // Every provider call carries the request id resil sent the gateway: the verdicts below see every attempt.
    expect(result.behaviour.correlation.matched).toBe(result.behaviour.correlation.calls);
    const verdicts = (document: { thresholds: Array<{ expression: string; ok: boolean; note?: string }> }) =>
      Object.fromEntries(DEPENDENCY_VERDICTS.map((e) => [e, document.thresholds.find((t) => t.expression === e)!]));
    for (const verdict of Object.values(verdicts(result))) expect(verdict).toMatchObject({ ok: true });

    // Streamed answers: every failure before the first token was absorbed (each caller got a 200 and a
    // stream); every one after it reached the caller as a failed stream, none absorbed, and no healthy
    // stream failed: the count is exact (a gateway idle timeout of 500 ms is far above the mock's 20 ms gaps).
    const streamed = passed.scenarios[1];
    expect(streamed).toMatchObject({ name: 'streamed-answers', ok: true });
    expect(Object.keys(streamed.result.statusCodes)).toEqual(['200']);
    expect(Object.keys(streamed.result.errors)).toEqual(['stream']);
    expect(streamed.result.errors.stream).toBe(midAnswerFaults(streamed.result.faults.injected));
    expect(streamed.result.streams.streams).toBe(streamed.result.requests.total);

    expect(naive.code).toBe(1);
    const failed = JSON.parse(naive.stdout);
    expect(failed.ok).toBe(false);
    const naiveResult = failed.scenarios[0].result;
    expect(naiveResult.thresholds.find((t: { expression: string }) => t.expression === 'success_rate>=0.85').ok).toBe(false);
    expect(naiveResult.behaviour.correlation.matched).toBe(naiveResult.behaviour.correlation.calls);
    // Each dependency-side verdict the naive gateway breaks fails with its sentence; it never sends more than 4 calls.
    const naiveVerdicts = verdicts(naiveResult);
    expect(naiveVerdicts['attempts_max<=4']).toMatchObject({ ok: true });
    expect(naiveVerdicts['retry_after_violations==0']).toMatchObject({
      ok: false,
      note: expect.stringMatching(/^\d[\d,]* retries to the dependencies came sooner than Retry-After: 1\.00s; the earliest after /),
    });
    // Quick: the calls it waits on for 10 s are still held when A goes down at 9 s (n/a); in the 24 s demo, 10.00s.
    expect(naiveVerdicts['dependency_timeout<=500ms']).toMatchObject({ ok: false });
    expect(naiveVerdicts['breaker_open_after<2s']).toMatchObject({
      ok: false,
      formatted: 'never',
      note: expect.stringMatching(
        /^in window phase 2 \(6s for 2s\) every call failed and calls kept coming at [\d.]+\/s \([\d.]+\/s before it\): no breaker opened$/,
      ),
    });
    expect(naiveVerdicts['failover_delay_p99<1500ms']).toMatchObject({
      ok: false,
      note: expect.stringMatching(
        /^[\d,]+ calls failed, and no request moved to another provider after one: the service did not fail over$/,
      ),
    });

    // The naive gateway waits 10 s for an event: A's 2 s stall reaches its callers, whose stream goes on after it.
    const naiveStreamed = failed.scenarios[1];
    expect(naiveStreamed.ok).toBe(false);
    expect(naiveStreamed.result.thresholds.find((t: { expression: string }) => t.expression === 'event_gap_max<1s')).toMatchObject({
      ok: false,
      actual: expect.any(Number),
    });
    expect(naiveStreamed.result.thresholds.find((t: { expression: string }) => t.expression === 'event_gap_max<1s').actual).toBeGreaterThan(
      1900,
    );
  }, 60_000);
});

describe('resil run', () => {
  let upstream: TestServer;
  let sut: TestServer;
  let providerPort: number;
  beforeAll(async () => {
    upstream = await startServer((_req, res) => res.end('{"result":"ok"}'));
    providerPort = await refusedPort();
    sut = await startSut(`http://127.0.0.1:${providerPort}`, 3);
  });
  afterAll(async () => {
    await sut.close();
    await upstream.close();
  });

  const campaignFile = (text: string) => {
    const path = join(scratch, `campaign-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, text);
    return path;
  };
  const campaign = () =>
    campaignFile(`
providers:
  dep:
    listen: 127.0.0.1:${providerPort}
    upstream: ${upstream.url}
scenarios:
  - name: steady
    url: ${sut.url}/
    requests: 100
    concurrency: 5
    thresholds: ['success_rate>=0.99', 'p99<1s']
  - name: faults
    type: chaos
    url: ${sut.url}/
    rate: 100
    duration: 2s
    concurrency: 10
    faults:
      dep: { failure-rate: 0.3, faults: 'status:503' }
    thresholds: ['success_rate>=0.95', 'amplification<=1.2']
`);

  test('runs every scenario, writes JUnit and JSON, and fails on the scenario whose threshold failed', async () => {
    const junit = join(scratch, 'junit.xml');
    const json = join(scratch, 'result.json');
    const summary = join(scratch, 'summary.md');
    const run = await runCli(['run', campaign(), '--out', junit, '--out', json], {
      env: { GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true' },
      timeoutMs: 30_000,
    });
    // With 3 retries at 30% faults the service holds its success rate, but amplification is about 1.4.
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/steady\s*│\s*100\s*│/);
    expect(run.stdout).toContain('campaign failed: faults failed');
    expect(run.stdout).toMatch(/^::error title=resil faults%3A amplification<=1\.2::measured 1\.\d+ calls\/request/m);

    const xml = readFileSync(junit, 'utf8');
    // faults: the user's two thresholds and the default dependency_calls>0 (success_rate is the user's own).
    expect(xml).toMatch(/<testsuites name="resil" tests="5" failures="1"/);
    expect(xml).toMatch(/<testsuite name="steady" tests="2" failures="0"/);
    expect(xml).toMatch(/<testsuite name="faults" tests="3" failures="1"/);
    expect(xml).toContain('<testcase classname="resil.faults" name="dependency_calls&gt;0" time="0.000"/>');
    expect(xml).toContain('<testcase classname="resil.faults" name="amplification&lt;=1.2"');

    const document = JSON.parse(readFileSync(json, 'utf8'));
    expect(document.ok).toBe(false);
    expect(document.scenarios.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([
      ['steady', true],
      ['faults', false],
    ]);
    expect(document.scenarios[1].result.faults.passedThrough).toBeGreaterThan(0);
    expect(readFileSync(summary, 'utf8')).toContain('amplification<=1.2');
  });

  test('a chaos scenario that no dependency call reached fails, naming each provider address to call', async () => {
    // The scenario drives the upstream directly: the service under test, and so the proxies, are bypassed.
    const otherPort = await refusedPort();
    const file = campaignFile(`
providers:
  dep: { listen: 127.0.0.1:${providerPort}, upstream: ${upstream.url} }
  other: { listen: 127.0.0.1:${otherPort}, mock: {} }
scenarios:
  - name: bypassed
    type: chaos
    url: ${upstream.url}/
    requests: 20
    concurrency: 2
    faults: { dep: { failure-rate: 0.3 } }
    thresholds: ['p99<5s']
`);
    const junit = join(scratch, 'bypassed.xml');
    const run = await runCli(['run', file, '--out', junit]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `✗ no dependency call reached the chaos proxies: point the service's dependency URLs at http://127.0.0.1:${providerPort} (dep) and http://127.0.0.1:${otherPort} (other)`,
    );
    expect(run.stdout).toMatch(/dependency_calls>0 \(default\)\s*│\s*0\s*│\s*FAIL/);
    expect(run.stdout).toMatch(/success_rate>=0\.9 \(default\)\s*│\s*100\.00%\s*│\s*pass/);
    expect(run.stdout).toContain('1 of 3 thresholds failed');
    expect(readFileSync(junit, 'utf8')).toMatch(
      /<failure message="dependency_calls&gt;0: actual 0 \(no dependency call reached the chaos proxies/,
    );
  });

  test('--scenario runs one; --dry-run sends nothing', async () => {
    const file = campaign();
    const before = upstream.seen;
    const dry = await runCli(['run', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('faults (chaos)');
    expect(upstream.seen).toBe(before);
    const one = await runCli(['run', file, '--scenario', 'steady', '--json']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout).scenarios.map((s: { name: string }) => s.name)).toEqual(['steady']);
    const unknown = await runCli(['run', file, '--scenario', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no such scenario \(scenarios: steady, faults\)/);
  });

  test('campaign file errors list every problem with its line and column (exit 2)', async () => {
    const file = campaignFile(
      [
        'scenarios:',
        '  - name: a',
        '    url: http://127.0.0.1:1/',
        '    durration: 10s',
        '    concurrency: many',
        '    timeout: 5parsecs',
        '',
      ].join('\n'),
    );
    const run = await runCli(['run', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/:4:5: scenarios\[0\]: unknown field 'durration'/);
    expect(run.stderr).toMatch(/:5:18: scenarios\[0\]\.concurrency: /);
    expect(run.stderr).toMatch(/:6:14: scenarios\[0\]\.timeout: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const missing = await runCli(['run', join(scratch, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^resil: campaign file '.*nope\.yaml' not found$/);
  });

  test("options in conflict across defaults and a scenario: the scenario key, its line and column, the file's names (exit 2)", async () => {
    const file = campaignFile(
      [
        'defaults: { url: http://127.0.0.1:1/, rate: 10, max-connections: 5 }',
        'scenarios:',
        '  - name: one',
        '    concurrency: 10',
        '  - { name: two, body: x, body-file: y, requests: 5, duration: 1s }',
        '',
      ].join('\n'),
    );
    const run = await runCli(['run', file]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      `resil: ${file}:4:5: scenarios[0].concurrency: max-connections 5 is less than concurrency 10 (the connections opened at the start)`,
      `${file}:5:27: scenarios[1].body-file: give body or body-file, not both`,
      `${file}:5:41: scenarios[1].requests: with rate give requests or duration, not both: the rate fixes one from the other`,
    ]);
  });
});

describe('resil init', () => {
  test('writes a campaign that validates and a workflow; refuses to overwrite without --force', async () => {
    const dir = mkdtempSync(join(scratch, 'init-'));
    const file = join(dir, 'resil.yaml');
    const workflow = join(dir, '.github', 'workflows', 'resilience.yml');
    const args = ['init', 'http://127.0.0.1:3000/health', '--file', file, '--workflow', workflow];
    expect((await runCli(args)).code).toBe(0);
    expect(existsSync(workflow)).toBe(true);
    // The workflow runs the campaign through the action, by its path from the repository root.
    expect(readFileSync(workflow, 'utf8')).toMatch(/uses: OWNER\/resil@main\n\s+with:\n\s+campaign: resil\.yaml\n/);
    const dry = await runCli(['run', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dependency-failures (chaos)');
    const again = await runCli(args);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exist; use --force to overwrite');
    expect((await runCli([...args, '--force'])).code).toBe(0);
  });
});
