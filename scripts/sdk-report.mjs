// `npm run sdk-report`: what the official OpenAI and Anthropic SDKs' built-in retries and timeouts do,
// measured by resil's chaos proxy and its dependency-side observer (scripts/sdk/experiments.mjs), as a
// Markdown table. Loopback only; about a minute (--quick: one request per experiment, about 15 s).
//   node scripts/sdk-report.mjs [--quick] [--json] [--write [--readme FILE]]
// --write replaces the table between the sdk-report markers in README.md (or FILE); --json prints
// the measurements instead of the table. Run after `npm run build`: it imports resil from dist/.

import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { runExperiment, SDKS } from './sdk/experiments.mjs';

export const START_MARKER = '<!-- sdk-report:start -->';
export const END_MARKER = '<!-- sdk-report:end -->';
export const COLUMNS = [
  'SDK',
  'version',
  'default retries',
  'honours Retry-After (429)',
  'Retry-After: 0 (429)',
  '529 (overloaded)',
  'backoff without Retry-After (500)',
  'backoff growth',
  'effective timeout',
  '429 before a stream',
  'error event mid-stream',
  'answer stalled 1 s (timeout 300 ms)',
  'stream cut mid-answer',
];

/** The SDK's own timeout in these experiments (ms). */
const TIMEOUT_MS = 300;
/** Events of a stream before its error event, stall or cut. */
const EVENTS_BEFORE_FAULT = 2;

/** Every experiment for one SDK; `quick` runs one request each and a 1 s Retry-After. */
export async function measureSdk(sdk, { quick = false } = {}) {
  const requests = quick ? 1 : 3;
  const retryAfter = quick ? 1 : 2;
  return {
    sdk,
    package: SDKS[sdk].package,
    version: SDKS[sdk].version,
    defaults: SDKS[sdk].defaults(),
    retryAfterSeconds: retryAfter,
    timeoutMs: TIMEOUT_MS,
    rateLimited: await runExperiment({ sdk, faults: 'status:429', retryAfter, requests: quick ? 1 : 2 }),
    retryAfterZero: await runExperiment({ sdk, faults: 'status:429', retryAfter: 0 }),
    overloaded: await runExperiment({ sdk, faults: 'status:529', retryAfter: 1 }),
    failing: await runExperiment({ sdk, faults: 'status:500', requests }),
    streamRateLimited: await runExperiment({
      sdk,
      faults: 'status:429',
      retryAfter: 1,
      matchHeader: 'X-Stainless-Retry-Count: 0',
      stream: true,
    }),
    // Its own retries left at their default: the row says how many attempts a timeout gets.
    timeout: await runExperiment({ sdk, faults: 'timeout', client: { timeout: TIMEOUT_MS } }),
    streamError: await runExperiment({ sdk, faults: `stream-error:${EVENTS_BEFORE_FAULT}`, stream: true }),
    bodyStall: await runExperiment({ sdk, faults: 'stall:1s', client: { timeout: TIMEOUT_MS } }),
    streamStall: await runExperiment({ sdk, faults: `stall:1s@${EVENTS_BEFORE_FAULT}`, stream: true, client: { timeout: TIMEOUT_MS } }),
    streamCut: await runExperiment({ sdk, faults: `truncate:${EVENTS_BEFORE_FAULT}events`, stream: true }),
  };
}

const seconds = (ms) => (ms < 100 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);
/** 'low–high' as shown, or one figure when both show the same. */
const range = (low, high) => (seconds(low) === seconds(high) ? seconds(low) : `${seconds(low)}–${seconds(high)}`);
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the caller got: 'the answer (7 events)', or the error's class (and status). */
function caught(outcome) {
  if (outcome.ok) return outcome.events > 0 ? `the answer (${plural(outcome.events, 'event')})` : 'the answer';
  const detail = outcome.status !== undefined ? ` ${outcome.status}` : outcome.error === 'TypeError' ? ` (${outcome.message})` : '';
  return `\`${outcome.error}\`${detail}`;
}

/** Attempts of each request, as the observer counted them: '3' or '2–3'. */
function attempts(seen) {
  const counts = Object.keys(seen.attempts).map(Number);
  const low = Math.min(...counts);
  const high = Math.max(...counts);
  return low === high ? String(low) : `${low}–${high}`;
}

/** One table row of measured facts. */
export function row(m) {
  const { rateLimited: r, overloaded: o, failing: f, streamRateLimited: s, timeout: t } = m;
  const retryAfter = r.seen.retryAfter;
  const honours =
    retryAfter.followed === 0
      ? 'not retried'
      : `${retryAfter.violations === 0 ? 'yes' : `no: ${retryAfter.violations} of ${retryAfter.followed} early`}: ` +
        `waited ${range(r.seen.retryDelayMin, r.seen.retryDelayMax)} for ${m.retryAfterSeconds} s, then ${caught(r.outcomes.at(-1))}`;
  const retried = (x) =>
    `${attempts(x.seen)} attempts, ${x.seen.retryDelayMin === null ? 'no retry' : `delays ${range(x.seen.retryDelayMin, x.seen.retryDelayMax)}`}`;
  const timeout =
    `${m.defaults.timeoutMs / 1000} s (its default); set to ${m.timeoutMs} ms, its retries left at ${m.defaults.maxRetries}: ` +
    `each attempt gave up after ${range(t.seen.dependencyTimeout, t.seen.dependencyTimeoutMax)}, ${t.seen.attemptsMax} attempts, ` +
    `then ${caught(t.outcomes[0])}`;
  const streamRetry =
    s.seen.retries > 0
      ? `retried after ${seconds(s.seen.retryDelayMin)} (Retry-After 1 s), then ${caught(s.outcomes[0])}`
      : `not retried: ${caught(s.outcomes[0])}`;
  const midStream = (x) =>
    `${x.seen.retries === 0 ? 'not retried' : `retried ${plural(x.seen.retries, 'time')}`}: ${caught(x.outcomes[0])}` +
    (x.outcomes[0].ok ? '' : ` after ${plural(x.outcomes[0].events ?? 0, 'event')}`);
  const stall = m.streamStall.outcomes[0];
  return [
    `\`${m.package}\``,
    m.version,
    `${r.seen.attemptsMax - 1} (${attempts(r.seen)} attempts on a 429; its maxRetries: ${m.defaults.maxRetries})`,
    honours,
    `${retried(m.retryAfterZero)}`,
    `${retried(o)} (Retry-After 1 s), then ${caught(o.outcomes.at(-1))}`,
    `${retried(f)}, then ${caught(f.outcomes.at(-1))}`,
    f.seen.backoffGrowth === null ? 'n/a' : `×${f.seen.backoffGrowth.toFixed(2)} (median)`,
    timeout,
    streamRetry,
    midStream(m.streamError),
    `JSON: ${midStream(m.bodyStall)} in ${seconds(m.bodyStall.outcomes[0].elapsedMs)}; stream: ${midStream(m.streamStall)} in ${seconds(stall.elapsedMs)}`,
    midStream(m.streamCut),
  ];
}

/**
 * The Markdown table, with a line saying how it was made: one row per behaviour (COLUMNS after the
 * first two), one column per SDK, headed by its package and version, so that it stays readable.
 */
export function table(measurements, { quick = false } = {}) {
  const rows = measurements.map(row);
  const lines = [
    `| ${['', ...rows.map((r) => `${r[0]} ${r[1]}`)].join(' | ')} |`,
    `| ${['---', ...rows.map(() => '---')].join(' | ')} |`,
    ...COLUMNS.slice(2).map((name, i) => `| ${[name, ...rows.map((r) => r[i + 2])].join(' | ')} |`),
  ];
  const how =
    `Measured by \`npm run sdk-report\`${quick ? ' --quick' : ''} on Node ${process.versions.node}: each SDK against a ` +
    `chaos proxy on 127.0.0.1 whose mock is the provider's preset, faults shaped like the provider's (every attempt ` +
    `faulted; the stream's 429 on its first attempt only; stream faults after ${EVENTS_BEFORE_FAULT} events), attempts and ` +
    `delays as the proxy's dependency-side observer saw them.`;
  return `${how}\n\n${lines.join('\n')}\n`;
}

/** `readme` with the text between the markers replaced by `body`; throws when the markers are missing. */
export function replaceBetweenMarkers(readme, body) {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end < start) throw new Error(`the README has no ${START_MARKER} … ${END_MARKER} section`);
  return `${readme.slice(0, start + START_MARKER.length)}\n${body}${readme.slice(end)}`;
}

async function main(argv) {
  const quick = argv.includes('--quick');
  const readmeAt = argv.indexOf('--readme');
  const readme = readmeAt === -1 ? new URL('../README.md', import.meta.url) : argv[readmeAt + 1];
  const measurements = [];
  for (const sdk of Object.keys(SDKS)) measurements.push(await measureSdk(sdk, { quick }));
  const markdown = table(measurements, { quick });
  if (argv.includes('--write')) {
    writeFileSync(readme, replaceBetweenMarkers(readFileSync(readme, 'utf8'), markdown));
    process.stderr.write(`sdk-report: the table in ${readme instanceof URL ? 'README.md' : readme} is replaced\n`);
  }
  process.stdout.write(argv.includes('--json') ? `${JSON.stringify(measurements.map(stripBehaviour), null, 2)}\n` : markdown);
}

/** The measurements without each experiment's raw behaviour section (histograms), for --json. */
function stripBehaviour(m) {
  return Object.fromEntries(
    Object.entries(m).map(([key, value]) => [
      key,
      value && typeof value === 'object' && 'behaviour' in value ? { ...value, behaviour: undefined } : value,
    ]),
  );
}

// Run as a script (not imported by the tests): a path with spaces or other escaped characters too.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`sdk-report: ${error.message}\n`);
    process.exitCode = 1;
  });
}
