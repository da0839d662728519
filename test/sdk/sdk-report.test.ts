import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SDKS } from '../../scripts/sdk/experiments.mjs';

// `npm run sdk-report` (scripts/sdk-report.mjs, after `npm run build`): it runs in a plain Node process,
// writes its table between the markers of a README (a copy here), and the README's own table is one
// it wrote: same header, one row per SDK with the installed version. Quick mode: about 15 s.

const run = promisify(execFile);
const README = new URL('../../README.md', import.meta.url);
const START = '<!-- sdk-report:start -->';
const END = '<!-- sdk-report:end -->';

/** The table lines (those starting with '|') between the markers. */
function tableOf(readme: string): string[] {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  return readme
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('|'));
}

const cells = (line: string) => line.split(' | ').length;

interface Measured {
  sdk: string;
  version: string;
  defaults: { maxRetries: number; timeoutMs: number };
  rateLimited: { seen: { attemptsMax: number; retryAfter: { followed: number; violations: number } } };
  timeout: { outcomes: Array<{ error?: string }>; seen: { dependencyTimeout: number; attemptsMax: number; timeoutsHeld: number } };
}

test('sdk-report --quick measures both SDKs, writes the table between the markers, in the README format', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'resil-sdk-report-'));
  try {
    const copy = join(dir, 'README.md');
    copyFileSync(README, copy);
    const { stdout, stderr } = await run('node', ['scripts/sdk-report.mjs', '--quick', '--json', '--write', '--readme', copy], {
      timeout: 60_000,
    });
    expect(stderr).toBe(`sdk-report: the table in ${copy} is replaced\n`);
    const measured = JSON.parse(stdout) as Measured[];
    expect(measured.map((m) => [m.sdk, m.version])).toEqual([
      ['openai', SDKS.openai.version],
      ['anthropic', SDKS.anthropic.version],
    ]);
    for (const m of measured) {
      expect(m.defaults).toEqual({ maxRetries: 2, timeoutMs: 600_000 });
      expect(m.rateLimited.seen).toMatchObject({ attemptsMax: 3, retryAfter: { followed: 2, violations: 0 } });
      // In a plain Node process (not jest's realm) the SDKs name a timeout for what it is.
      expect(m.timeout.outcomes[0]!.error).toBe('APIConnectionTimeoutError');
      // With its retries at their default (2), a timeout is retried twice: 3 attempts, each held until the SDK gave up.
      expect(m.timeout.seen).toMatchObject({ attemptsMax: 3, timeoutsHeld: 3 });
    }

    const written = tableOf(readFileSync(copy, 'utf8'));
    const committed = tableOf(readFileSync(README, 'utf8'));
    // Header (one column per SDK, with its installed version), separator, one row per behaviour.
    expect(written.length).toBeGreaterThan(10);
    expect(committed).toHaveLength(written.length);
    expect(committed[0]).toBe(written[0]);
    expect(committed[0]).toBe(`|  | \`openai\` ${SDKS.openai.version} | \`@anthropic-ai/sdk\` ${SDKS.anthropic.version} |`);
    const header = cells(written[0]!);
    for (const line of [...written, ...committed]) expect(cells(line)).toBe(header);
    // The same behaviours, in the same order.
    expect(committed.map((line) => line.split(' | ')[0])).toEqual(written.map((line) => line.split(' | ')[0]));
    // Outside the markers the copy is the README unchanged.
    const outside = (text: string) => text.slice(0, text.indexOf(START)) + text.slice(text.indexOf(END));
    expect(outside(readFileSync(copy, 'utf8'))).toBe(outside(readFileSync(README, 'utf8')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
