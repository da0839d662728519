import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/servers.js';

const scratch = mkdtempSync(join(tmpdir(), 'resil-read-'));

/** A current result as the resil of before issue #10 wrote it: the fields added since removed. */
function asOldResult(document: Record<string, any>): Record<string, any> {
  const old = structuredClone(document);
  delete old.requests.dropped;
  delete old.settings.maxConnections;
  delete old.warnings;
  delete old.fromEnvironment;
  if (old.schedule) for (const key of ['peakConnections', 'waitedForConnection', 'connectionsNeeded']) delete old.schedule[key];
  // Verdicts before issue #11: only the expression, ok, actual and default.
  for (const verdict of old.thresholds) for (const key of ['note', 'metric', 'percentile', 'kind', 'formatted']) delete verdict[key];
  for (const stats of Object.values<Record<string, unknown>>(old.faults?.providers ?? {}))
    for (const key of ['eligible', 'considered', 'expected', 'unmatched']) delete stats[key];
  return old;
}

describe('resil report reads what an earlier resil wrote, and refuses what is not a result', () => {
  let server: TestServer;
  let old: string;
  beforeAll(async () => {
    server = await startServer((_req, res) => res.end('ok'));
    const run = await runCli(['load', server.url, '-r', '100', '-d', '300ms', '--json']);
    expect(run.code).toBe(0);
    old = join(scratch, 'old.json');
    writeFileSync(old, JSON.stringify(asOldResult(JSON.parse(run.stdout))));
  });
  afterAll(() => server.close());

  test('an open-model result without the connection figures renders, merges, writes every format and serves as baseline', async () => {
    const shown = await runCli(['report', old]);
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('open model, 100/s scheduled');
    expect(shown.stdout).not.toMatch(/connections +\d/);

    const outs = ['x.html', 'x.prom', 'x.xml', 'x.json'].map((name) => join(scratch, name));
    const written = await runCli(['report', old, ...outs.flatMap((out) => ['--out', out])]);
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    expect(readFileSync(outs[1]!, 'utf8')).toContain('resil_requests_dropped_total{scenario="load"} 0');
    // Read back complete: what an older resil meant by each missing field.
    expect(JSON.parse(readFileSync(outs[3]!, 'utf8'))).toMatchObject({
      requests: { dropped: 0 },
      warnings: [],
      schedule: { peakConnections: null },
      thresholds: [{ expression: 'success_rate>=0.95', metric: 'success_rate', kind: 'ratio', actual: 1, formatted: '100.00%' }],
    });

    const merged = await runCli(['report', '--merge', old, '--json']);
    expect(merged.code).toBe(0);
    expect(JSON.parse(merged.stdout).schedule).toMatchObject({ peakConnections: null, connectionsNeeded: null });

    const compared = await runCli(['report', old, '--baseline', old]);
    expect(compared.stderr).toBe('');
    expect(compared.code).toBe(0);
  });

  test('a malformed result is exit 2 and one line naming the file and the field', async () => {
    const bare = join(scratch, 'bare.json');
    writeFileSync(bare, JSON.stringify({ schema: 'resil/result@1' }));
    for (const args of [
      ['report', bare],
      ['report', old, '--baseline', bare],
      ['report', '--merge', bare],
    ]) {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(`${bare}: not a valid resil result: "command" is missing`)]);
    }
    const wrongType = join(scratch, 'wrong.json');
    const document = JSON.parse(readFileSync(old, 'utf8'));
    document.requests.total = 'many';
    writeFileSync(
      wrongType,
      JSON.stringify({ schema: 'resil/campaign-result@1', ok: true, scenarios: [{ name: 'a', ok: true, result: document }] }),
    );
    const run = await runCli(['report', wrongType]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /wrong\.json: not a valid resil result: "scenarios\[0\]\.result\.requests\.total" should be a number, not string$/,
    );
  });
});
