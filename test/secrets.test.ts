import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrubSecrets } from '../src/util/redact.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { startServer, type TestServer } from './helpers/servers.js';

// A planted secret must never appear in any output: terminal, result documents, JUnit, the GitHub
// step summary and annotations, proxy lines, or error messages.
const SECRET = 'sk-live-PLANTED-7f3a9c2e';

describe('secrets never appear in any output', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startServer((_req, res) => res.end('{"result":"ok"}'));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'resil-secrets-'));
  });

  /** Everything a run produced: stdout, stderr and every file in its output folder. */
  function everything(run: CliRun): string {
    const files = readdirSync(dir).map((name) => readFileSync(join(dir, name), 'utf8'));
    return [run.stdout, run.stderr, ...files].join('\n');
  }
  const ci = () => ({ GITHUB_STEP_SUMMARY: join(dir, 'summary.md'), GITHUB_ACTIONS: 'true' });
  const secretHeaders = [
    '-H',
    `Authorization: Bearer ${SECRET}`,
    '-H',
    `Proxy-Authorization: Basic ${SECRET}`,
    '-H',
    `Cookie: session=${SECRET}`,
    '-H',
    `x-api-key: ${SECRET}`,
    '-H',
    `api-key: ${SECRET}`,
    '-H',
    `x-tenant-token: ${SECRET}`,
    '--redact',
    'x-tenant-token',
  ];

  test('load: headers, URL userinfo and token query values, in every output format', async () => {
    const url = `http://user:${SECRET}@127.0.0.1:${server.port}/?access_token=${SECRET}&key=${SECRET}&page=2`;
    const run = await runCli(
      ['load', url, '-n', '20', ...secretHeaders, '-t', 'p99<1us', '--out', join(dir, 'r.json'), '--out', join(dir, 'r.xml')],
      { env: ci() },
    );
    expect(run.code).toBe(1); // the impossible threshold makes the annotations and failure texts appear
    const all = everything(run);
    expect(all).toContain('::error');
    expect(all).toContain('page=2');
    expect(all).not.toContain(SECRET);
  });

  test('chaos (policy mode): the upstream URL with credentials is redacted in proxy lines and results', async () => {
    const run = await runCli(
      // --retry-after 0: the retries of the injected 503s need not wait the default 1 s each.
      [
        'chaos',
        '--upstream',
        `http://admin:${SECRET}@127.0.0.1:${server.port}/v1?api_key=${SECRET}`,
        '--failure-rate',
        '0.2',
        '--retry-after',
        '0',
        '-n',
        '30',
        ...secretHeaders,
        '--out',
        join(dir, 'c.json'),
        '--out',
        join(dir, 'c.xml'),
      ],
      { env: ci() },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('proxy dependency listening on');
    expect(everything(run)).not.toContain(SECRET);
  });

  test('run: values from ${VAR} in headers and URLs, in the plan, the results and a validation error', async () => {
    const campaign = join(dir, 'campaign.yaml');
    writeFileSync(
      campaign,
      [
        'scenarios:',
        '  - name: with-token',
        `    url: http://127.0.0.1:${server.port}/?token=\${TOKEN}`,
        '    headers: { authorization: "Bearer ${TOKEN}", x-api-key: "${TOKEN}" }',
        '    requests: 10',
        "    thresholds: ['p99<1us']",
        '',
      ].join('\n'),
    );
    const env = { ...ci(), TOKEN: SECRET };
    const run = await runCli(['run', campaign, '--out', join(dir, 'out.json'), '--out', join(dir, 'out.xml')], { env });
    expect(run.code).toBe(1);
    const dry = await runCli(['run', campaign, '--dry-run'], { env });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, ['scenarios:', '  - name: x', '    url: http://127.0.0.1:1/', '    timeout: "${TOKEN}"', ''].join('\n'));
    const invalid = await runCli(['run', bad], { env });
    expect(invalid.code).toBe(2);
    for (const text of [everything(run), dry.stdout, dry.stderr, invalid.stderr]) expect(text).not.toContain(SECRET);
  });

  test('error messages that echo input never echo a secret', async () => {
    const runs = await Promise.all([
      runCli(['load', `http://u:${SECRET}@bad host/?token=${SECRET}`]),
      runCli(['load', 'http://127.0.0.1:1/', '-H', `Authorization: Bearer ${SECRET}`, '--timeout', SECRET]),
      runCli(['load', 'http://127.0.0.1:1/', '-H', `x-api-key: ${SECRET}`, '-c', SECRET]),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).not.toContain(SECRET);
    }
  });
});

describe('scrubSecrets: the one scrubber of messages', () => {
  test('the longest secret first, in one pass; regex characters are plain text; 1-2 characters are left', () => {
    const text = 'key abc.def+x and abc, not abcxdef';
    expect(scrubSecrets(text, ['abc', 'abc.def+x', 'ab'])).toBe('key [redacted] and [redacted], not [redacted]xdef');
    // One pass: the marker itself is never scrubbed again ('red' would cut into '[redacted]').
    expect(scrubSecrets('the secret', ['secret', 'red', 'act'])).toBe('the [redacted]');
    expect(scrubSecrets('a b 12', ['a', '12'])).toBe('a b 12');
  });
});
