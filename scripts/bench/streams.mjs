// What measuring streams costs the load generator: a local nginx serves one SSE body (20 OpenAI-like
// chat.completion.chunk data events ending with `data: [DONE]`, 3,951 bytes) at two paths, as
// text/event-stream (/sse: resil's scanner reads every byte, records ttft and event gaps) and as
// application/json (/sse.json: the same bytes, scanner off). resil runs on both and autocannon on
// /sse, alternately (the order flips every round), each run in its own `node` child at the same
// concurrency. Prints CPU µs per request and requests per second per run, the medians and the
// ratios, and checks resil's counts: streams = requests and data events = 20 × streams on /sse,
// no stream on /sse.json, no failed request (exit 1 otherwise). A benchmark, never a test: it
// never fails on times. Saves everything to bench-results/streams.json.
//
//   npm run build && node scripts/bench/streams.mjs
//   BENCH_ROUNDS=3 BENCH_SECONDS=5 node scripts/bench/streams.mjs
//
// Settings (env): BENCH_ROUNDS (default 3), BENCH_SECONDS per run (default 5), BENCH_CONCURRENCY
// connections (default 50). Loopback only; every child is bounded by a timeout; nginx is always stopped.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx.mjs';
import { RESIL_NODE_FLAGS } from './node-flags.mjs';
import { fixed, guardChildren, killQuietly, median, positiveInt, printTable, runJsonChild } from './stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

const settings = {
  rounds: positiveInt('BENCH_ROUNDS', 3),
  seconds: positiveInt('BENCH_SECONDS', 5), // each run, s
  concurrency: positiveInt('BENCH_CONCURRENCY', 50), // connections
};
const childTimeoutMs = (3 * settings.seconds + 30) * 1000; // hard limit for one child, ms

const DATA_EVENTS = 20; // in the body, [DONE] included
const body = sseBody(DATA_EVENTS);

const runs = [
  { name: 'resil sse', script: 'gen-resil.mjs', nodeFlags: RESIL_NODE_FLAGS, path: 'sse' },
  { name: 'resil json', script: 'gen-resil.mjs', nodeFlags: RESIL_NODE_FLAGS, path: 'sse.json' },
  { name: 'autocannon sse', script: 'gen-autocannon.mjs', nodeFlags: [], path: 'sse' },
];

const running = new Set(); // generator children, killed on any way out
let nginx = null;

guardChildren(running, abort);

try {
  await main();
} catch (error) {
  console.error(`bench: ${error?.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await nginx?.stop();
}

async function main() {
  if (!fs.existsSync(path.join(repoRoot, 'dist/index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first');
  nginx = await startNginx({
    routes: [
      { path: '/sse', contentType: 'text/event-stream', body },
      { path: '/sse.json', contentType: 'application/json', body },
    ],
  });
  console.log(`node ${process.version}, ${nginx.version}, ${os.cpus().length} CPUs`);
  console.log(
    `settings: ${settings.rounds} rounds × ${settings.seconds} s per run, concurrency ${settings.concurrency}, ` +
      `body ${Buffer.byteLength(body)} bytes, ${DATA_EVENTS} data events, target ${nginx.url}`,
  );
  console.log('');

  const rounds = [];
  const problems = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const order = round % 2 === 1 ? runs : [...runs].reverse();
    const entry = { round };
    for (const run of order) {
      process.stderr.write(`round ${round}/${settings.rounds}: ${run.name}... `);
      const figures = await runJsonChild({
        args: [
          ...run.nodeFlags,
          path.join(here, run.script),
          `${nginx.url}${run.path}`,
          String(settings.concurrency),
          String(settings.seconds),
        ],
        cwd: repoRoot,
        running,
        timeoutMs: childTimeoutMs,
        name: run.name,
      });
      process.stderr.write(`${Math.round(figures.rps)} rps\n`);
      problems.push(...countProblems(run, figures).map((problem) => `round ${round}, ${run.name}: ${problem}`));
      entry[run.name] = { ...figures, cpuUsPerRequest: figures.cpuUs / figures.requests };
    }
    rounds.push(entry);
  }

  const medians = {};
  for (const { name } of runs) {
    medians[name] = {
      rps: median(rounds.map((r) => r[name].rps)),
      cpuUsPerRequest: median(rounds.map((r) => r[name].cpuUsPerRequest)),
    };
  }
  const [sse, json, autocannon] = runs.map((run) => medians[run.name]);
  const ratios = {
    // The scanner's cost: > 1, resil spends more CPU per request on a stream than on the same bytes as JSON.
    scannerCpu: sse.cpuUsPerRequest / json.cpuUsPerRequest,
    scannerRps: sse.rps / json.rps,
    // resil (measuring the stream) against autocannon (reading the same bytes): > 1, resil uses more CPU.
    autocannonCpu: sse.cpuUsPerRequest / autocannon.cpuUsPerRequest,
    autocannonRps: sse.rps / autocannon.rps,
  };

  const header = ['round', ...runs.flatMap(({ name }) => [`${name} rps`, `${name} CPU µs/req`])];
  const row = (label, of) => [label, ...runs.flatMap(({ name }) => [fixed(of(name).rps, 0), fixed(of(name).cpuUsPerRequest, 2)])];
  printTable(header, [...rounds.map((r) => row(String(r.round), (name) => r[name])), row('median', (name) => medians[name])]);
  console.log('');
  const extraUs = sse.cpuUsPerRequest - json.cpuUsPerRequest; // µs per request
  console.log(
    `scanner: resil sse ÷ resil json, CPU µs per request ${fixed(ratios.scannerCpu, 3)} ` +
      `(${fixed(extraUs, 2)} µs per request, ${fixed(extraUs / DATA_EVENTS, 3)} µs per event); ` +
      `requests per second ${fixed(ratios.scannerRps, 3)}`,
  );
  console.log(
    `resil sse ÷ autocannon sse: CPU µs per request ${fixed(ratios.autocannonCpu, 3)} (>1: resil uses more); ` +
      `requests per second ${fixed(ratios.autocannonRps, 3)} (<1: resil is slower)`,
  );
  const counts = rounds.map(({ 'resil sse': f }) => `${f.streams} streams / ${f.requests} requests / ${f.dataEvents} data events`);
  console.log(`resil's counts on /sse: ${counts.join('; ')}`);

  const document = {
    date: new Date().toISOString(),
    node: process.version,
    nginx: nginx.version,
    cpus: os.cpus().length,
    settings: { ...settings, bodyBytes: Buffer.byteLength(body), dataEvents: DATA_EVENTS },
    units: { rps: 'requests/s', cpuUs: 'µs (user+system)', cpuUsPerRequest: 'µs/request' },
    rounds,
    medians,
    ratios: { note: 'of the medians: scanner* = resil sse / resil json, autocannon* = resil sse / autocannon sse', ...ratios },
    problems,
  };
  const outDir = path.join(repoRoot, 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, 'streams.json');
  fs.writeFileSync(outFile, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`saved ${path.relative(process.cwd(), outFile) || outFile}`);

  if (problems.length > 0) {
    for (const problem of problems) console.error(`bench: ${problem}`);
    process.exitCode = 1;
  } else {
    console.log(`counts exact in every run: streams = requests, data events = ${DATA_EVENTS} × streams, no stream on /sse.json`);
  }
}

/** What is wrong with a run's counts: resil must see every /sse answer as a stream of all its data events, and no other. */
function countProblems(run, figures) {
  const problems = [];
  if (figures.errors > 0) problems.push(`${figures.errors} failed requests`);
  if (run.script !== 'gen-resil.mjs') return problems;
  const streams = run.path === 'sse' ? figures.requests : 0;
  if (figures.streams !== streams) problems.push(`${figures.streams} streams, expected ${streams} (${figures.cancelled} cancelled)`);
  if (figures.dataEvents !== DATA_EVENTS * figures.streams) {
    problems.push(`${figures.dataEvents} data events, expected ${DATA_EVENTS} × ${figures.streams}`);
  }
  return problems;
}

/** `events` data events as OpenAI streams a chat completion: a role chunk, content chunks, a stop chunk, `[DONE]`. */
function sseBody(events) {
  const chunk = (delta, finishReason) =>
    JSON.stringify({
      id: 'chatcmpl-bench0123456789',
      object: 'chat.completion.chunk',
      created: 1735689600,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  const words = Array.from({ length: events - 3 }, (_, i) => ` word${i}`);
  const data = [
    chunk({ role: 'assistant', content: '' }, null),
    ...words.map((content) => chunk({ content }, null)),
    chunk({}, 'stop'),
    '[DONE]',
  ];
  return data.map((line) => `data: ${line}\n\n`).join('');
}

async function abort(signal, exitCode) {
  console.error(`\nbench: ${signal}, stopping`);
  for (const child of running) killQuietly(child, 'SIGKILL');
  await nginx?.stop();
  process.exit(exitCode);
}
