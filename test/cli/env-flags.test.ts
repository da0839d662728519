import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  envName,
  envSummary,
  flagsFromEnvironment,
  shownEnvValues,
  unknownEnvVariables,
  withEnvContext,
  type FlagShape,
} from '../../src/cli/env-flags.js';
import { unknownFlagsMessage } from '../../src/cli/flag-hints.js';
import { runCli } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/servers.js';

const FLAGS: Record<string, FlagShape> = {
  concurrency: { type: 'option', char: 'c' },
  rate: { type: 'option', char: 'r' },
  header: { type: 'option', char: 'H', multiple: true },
  threshold: { type: 'option', char: 't', multiple: true },
  'max-body': { type: 'option' },
  'admin-token': { type: 'option' },
  upstream: { type: 'option' },
  body: { type: 'option', char: 'b' },
  'mock-body': { type: 'option' },
  'expect-body': { type: 'option' },
  insecure: { type: 'boolean' },
  json: { type: 'boolean' },
};

describe('RESIL_<FLAG> variables', () => {
  test('names: upper snake case after RESIL_', () => {
    expect(envName('concurrency')).toBe('RESIL_CONCURRENCY');
    expect(envName('max-in-flight')).toBe('RESIL_MAX_IN_FLIGHT');
  });

  test('become flag tokens ahead of the command line; the command line wins, in every form it can take', () => {
    const env = {
      RESIL_CONCURRENCY: '100',
      RESIL_RATE: '50',
      RESIL_MAX_BODY: '10',
      RESIL_INSECURE: 'yes',
      RESIL_JSON: '0',
      RESIL_UNKNOWN: 'x',
    };
    const none = flagsFromEnvironment(FLAGS, ['http://x/'], env);
    expect(none.argv).toEqual(['--concurrency=100', '--rate=50', '--max-body=10', '--insecure', 'http://x/']);
    expect(none.used.map((u) => u.variable)).toEqual(['RESIL_CONCURRENCY', 'RESIL_RATE', 'RESIL_MAX_BODY', 'RESIL_INSECURE']);
    for (const argv of [['-c', '5'], ['-c5'], ['--concurrency', '5'], ['--concurrency=5']]) {
      expect(flagsFromEnvironment(FLAGS, argv, env).used.map((u) => u.flag)).not.toContain('concurrency');
    }
    // After `--` nothing is a flag; an empty variable is unset.
    expect(flagsFromEnvironment(FLAGS, ['--', '-c', '5'], { RESIL_CONCURRENCY: '7' }).argv).toEqual(['--concurrency=7', '--', '-c', '5']);
    expect(flagsFromEnvironment(FLAGS, [], { RESIL_CONCURRENCY: ' ' }).used).toEqual([]);
  });

  test('a repeatable flag takes one value per line; a boolean takes true/false words and nothing else', () => {
    const { argv } = flagsFromEnvironment(FLAGS, [], { RESIL_THRESHOLD: 'p99<300ms\r\n\n  success_rate>=0.99  \n' });
    expect(argv).toEqual(['--threshold=p99<300ms', '--threshold=success_rate>=0.99']);
    for (const word of ['true', 'TRUE', '1', 'on'])
      expect(flagsFromEnvironment(FLAGS, [], { RESIL_INSECURE: word }).argv).toEqual(['--insecure']);
    for (const word of ['false', '0', 'no', 'Off']) expect(flagsFromEnvironment(FLAGS, [], { RESIL_INSECURE: word }).argv).toEqual([]);
    expect(() => flagsFromEnvironment(FLAGS, [], { RESIL_INSECURE: 'maybe' })).toThrow("RESIL_INSECURE='maybe': expected true or false");
  });

  test('shown values: plain settings as given; secret headers, secret-looking flags and URL credentials redacted; user data only as its size', () => {
    const { used } = flagsFromEnvironment(FLAGS, [], {
      RESIL_HEADER: 'Authorization: Bearer abcdefgh12345678\nx-tenant: beta\nx-signature: s3cr3t-value',
      RESIL_ADMIN_TOKEN: 'hunter2hunter2',
      RESIL_UPSTREAM: 'http://user:pw@h/?token=abc',
      RESIL_RATE: '50',
      RESIL_BODY: '{"password":"hunter2"}',
      RESIL_MOCK_BODY: 'private answer',
      RESIL_EXPECT_BODY: 'alice@example.com',
    });
    const shown = shownEnvValues(used, ['X-Signature']);
    expect(shown).toEqual({
      RESIL_RATE: '50',
      RESIL_UPSTREAM: 'http://[redacted]@h/?token=[redacted]',
      RESIL_BODY: '(set, 22 bytes)',
      RESIL_MOCK_BODY: '(set, 14 bytes)',
      RESIL_EXPECT_BODY: '(set, 17 bytes)',
      RESIL_HEADER: 'Authorization: [redacted]\nx-tenant: beta\nx-signature: [redacted]',
      RESIL_ADMIN_TOKEN: '[redacted]',
    });
    // A flag no option table declares safe is never echoed.
    expect(shownEnvValues([{ flag: 'some-new-flag', variable: 'RESIL_SOME_NEW_FLAG', values: ['private'] }])).toEqual({
      RESIL_SOME_NEW_FLAG: '(set, 7 bytes)',
    });
    expect(envSummary({ RESIL_THRESHOLD: 'p99<1s\nrps>=5', RESIL_BODY: 'x'.repeat(200) })).toBe(
      `RESIL_THRESHOLD=p99<1s\\nrps>=5 · RESIL_BODY=${'x'.repeat(79)}…`,
    );
  });

  test('a RESIL_* variable that names no flag of any command is a warning with the nearest name', () => {
    const env = { RESIL_CONCURENCY: '5', RESIL_LISTEN: '9000', RESIL_BANANA: '1', PATH: '/bin', RESIL_UPDATE_SCHEMA: '1' };
    expect(unknownEnvVariables(['concurrency', 'listen', 'rate'], env)).toEqual([
      'warning: RESIL_BANANA matches no resil flag and is ignored',
      'warning: RESIL_CONCURENCY matches no resil flag and is ignored (did you mean RESIL_CONCURRENCY?)',
    ]);
  });

  test('usage errors name the variable behind a flag they mention, else list the values from the environment', () => {
    const { used } = flagsFromEnvironment(FLAGS, [], { RESIL_RATE: 'fast', RESIL_THRESHOLD: 'latency<3s' });
    const shown = shownEnvValues(used);
    expect(withEnvContext("--rate: 'fast' is not a number", used, shown)).toBe("--rate: 'fast' is not a number (from RESIL_RATE)");
    expect(withEnvContext("threshold 'latency<3s': unknown metric", used, shown)).toBe(
      "threshold 'latency<3s': unknown metric (flags from the environment: RESIL_RATE=fast · RESIL_THRESHOLD=latency<3s)",
    );
    expect(withEnvContext('a:1: x\nb:2: y', used, shown)).toBe('a:1: x\nb:2: y');
    expect(withEnvContext('--rate-limit is odd', used, shown)).toContain('flags from the environment');
    expect(withEnvContext('anything', [], {})).toBe('anything');
  });
});

describe('unknown flags', () => {
  test('did you mean: a typo, or the name another load tool uses', () => {
    expect(unknownFlagsMessage(['--rps'], FLAGS)).toBe('unknown flag --rps (did you mean -r/--rate?)');
    expect(unknownFlagsMessage(['--concurency'], FLAGS)).toBe('unknown flag --concurency (did you mean -c/--concurrency?)');
    expect(unknownFlagsMessage(['--vus=10', '--max-bdy'], FLAGS)).toBe(
      'unknown flags --vus (did you mean -c/--concurrency?), --max-bdy (did you mean --max-body?)',
    );
    expect(unknownFlagsMessage(['--banana', '-x'], FLAGS)).toBe('unknown flags --banana, -x');
    // Another tool's name is only offered when this command has the flag it maps to.
    expect(unknownFlagsMessage(['--rps'], { json: { type: 'boolean' } })).toBe('unknown flag --rps');
  });
});

describe('through the built CLI', () => {
  let server: TestServer;
  const scratch = mkdtempSync(join(tmpdir(), 'resil-env-'));
  beforeAll(async () => {
    server = await startServer((_req, res) => res.end('ok'));
  });
  afterAll(() => server.close());

  test('values from the environment drive the run and are reported; the command line wins; secrets never show', async () => {
    const out = join(scratch, 'result.json');
    const env = {
      RESIL_REQUESTS: '40',
      RESIL_CONCURRENCY: '100',
      RESIL_HEADER: 'authorization: Bearer env-secret-0123456789\nx-from-env: yes',
      RESIL_THRESHOLD: 'p99<5s\nsuccess_rate>=0.99',
    };
    const run = await runCli(['load', server.url, '-c', '3', '--out', out], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('closed model, 3 connections');
    expect(run.stdout).toContain('40 total · 40 ok');
    expect(run.stdout).toContain('p99<5s');
    expect(run.stdout).toContain(
      'from environment: RESIL_REQUESTS=40 · RESIL_HEADER=authorization: [redacted]\\nx-from-env: yes · RESIL_THRESHOLD=p99<5s\\nsuccess_rate>=0.99',
    );
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.fromEnvironment).toEqual({
      RESIL_REQUESTS: '40',
      RESIL_HEADER: 'authorization: [redacted]\nx-from-env: yes',
      RESIL_THRESHOLD: 'p99<5s\nsuccess_rate>=0.99',
    });
    expect(result.settings.headers['x-from-env']).toBe('yes');
    expect(run.stdout + readFileSync(out, 'utf8')).not.toContain('env-secret');

    const plain = await runCli(['load', server.url, '-n', '5', '--json']);
    expect(JSON.parse(plain.stdout).fromEnvironment).toBeUndefined();
  });

  test('a body from RESIL_BODY is sent but shown nowhere: terminal, result, step summary say only its size', async () => {
    const out = join(scratch, 'body.json');
    const summary = join(scratch, 'body-summary.md');
    const run = await runCli(['load', server.url, '-m', 'POST', '-n', '3', '--out', out], {
      env: { RESIL_BODY: '{"password":"hunter2"}', GITHUB_STEP_SUMMARY: summary },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('from environment: RESIL_BODY=(set, 22 bytes)');
    expect(JSON.parse(readFileSync(out, 'utf8')).fromEnvironment).toEqual({ RESIL_BODY: '(set, 22 bytes)' });
    expect(run.stdout + run.stderr + readFileSync(out, 'utf8') + readFileSync(summary, 'utf8')).not.toContain('hunter2');
  });

  test('RESIL_JSON and a campaign run: booleans and `run` flags come from the environment too', async () => {
    const campaign = join(scratch, 'campaign.yaml');
    writeFileSync(
      campaign,
      `scenarios:\n  - { name: one, url: '${server.url}/', requests: 5 }\n  - { name: two, url: '${server.url}/', requests: 5 }\n`,
    );
    const summary = join(scratch, 'summary.md');
    const run = await runCli(['run', campaign], { env: { RESIL_JSON: 'true', RESIL_SCENARIO: 'two', GITHUB_STEP_SUMMARY: summary } });
    expect(run.code).toBe(0);
    expect(readFileSync(summary, 'utf8')).toContain('From the environment: `RESIL_SCENARIO=two · RESIL_JSON=true`');
    const document = JSON.parse(run.stdout);
    expect(document.scenarios.map((s: { name: string }) => s.name)).toEqual(['two']);
    expect(document.scenarios[0].result.fromEnvironment).toEqual({ RESIL_SCENARIO: 'two', RESIL_JSON: 'true' });
  });

  test('bad values: exit 2, one line naming the variable, before any request', async () => {
    const before = server.seen;
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ RESIL_CONCURRENCY: 'many' }, /^resil: Parsing --concurrency Expected an integer but received: many \(from RESIL_CONCURRENCY\)$/],
      [{ RESIL_DURATION: '5parsecs' }, /^resil: --duration: '5parsecs' is not a duration .* \(from RESIL_DURATION\)$/],
      [{ RESIL_INSECURE: 'maybe' }, /^resil: RESIL_INSECURE='maybe': expected true or false/],
      [{ RESIL_THRESHOLD: 'latency<3s' }, /^resil: threshold 'latency<3s': .*\(flags from the environment: RESIL_THRESHOLD=latency<3s\)$/],
      [
        { RESIL_HEADER: 'Authorization: Bearer env-secret-0123456789', RESIL_RATE: 'fast' },
        /^resil: --rate: 'fast' .*\(from RESIL_RATE\)$/,
      ],
    ];
    const runs = await Promise.all(cases.map(([env]) => runCli(['load', server.url, '-n', '5'], { env })));
    for (const [i, [env, message]] of cases.entries()) {
      const run = runs[i]!;
      expect({ env, code: run.code }).toEqual({ env, code: 2 });
      expect(run.stderr.trim()).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).not.toContain('env-secret');
    }
    expect(server.seen).toBe(before);
  });

  test("a mistyped variable is a warning on stderr; another command's variable is not", async () => {
    const run = await runCli(['load', server.url, '-n', '3', '--json'], {
      env: { RESIL_CONCURENCY: '5', RESIL_LISTEN: '127.0.0.1:9000', RESIL_ADMIN_TOKEN: 'x' },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('resil: warning: RESIL_CONCURENCY matches no resil flag and is ignored (did you mean RESIL_CONCURRENCY?)\n');
    expect(JSON.parse(run.stdout).requests.total).toBe(3);
  });

  test('unknown flags: exit 2 with the nearest flag', async () => {
    const [rps, typo] = await Promise.all(['--rps', '--concurency'].map((flag) => runCli(['load', server.url, flag, '5'])));
    expect([rps!.code, rps!.stderr]).toEqual([2, 'resil: unknown flag --rps (did you mean -r/--rate?)\n']);
    expect([typo!.code, typo!.stderr]).toEqual([2, 'resil: unknown flag --concurency (did you mean -c/--concurrency?)\n']);
  });
});
