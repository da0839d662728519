// Load-generator benchmark: resil vs autocannon against a local nginx.
//
// A benchmark, never a test: it prints ratios and never fails on absolute times.
//
//   npm run bench                          (builds dist/ first)
//   BENCH_ROUNDS=2 BENCH_SECONDS=3 node scripts/bench/run.mjs
//
// Settings (env): BENCH_ROUNDS (default 5), BENCH_SECONDS per run (default 5),
// BENCH_CONCURRENCY connections (default 50).
//
// What it does:
//  1. Starts a local nginx (nginx.mjs: installs nginx-light if needed, runs it in the foreground
//     on 127.0.0.1:<free port>, answering every request with 200 "hello world\n"). nginx is
//     always stopped at the end.
//  2. Runs the two generators alternately, each run in a fresh `node` child process
//     (gen-resil.mjs, gen-autocannon.mjs), so each child's process.cpuUsage() is that generator's
//     CPU alone. The order flips every round (A B, B A, ...) so neither always runs first.
//  3. Prints per-round rps and CPU µs per request, the per-tool medians and the ratios
//     resil / autocannon, and saves everything to bench-results/load.json.
//
// Node 20 built-ins only. Every child is bounded by a timeout, after which it is killed.

import { fixed, guardChildren, killQuietly, median, positiveInt, runJsonChild } from './stats.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx.mjs';

import { RESIL_NODE_FLAGS } from './node-flags.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

const settings = {
  rounds: positiveInt('BENCH_ROUNDS', 5),
  seconds: positiveInt('BENCH_SECONDS', 5), // duration of each generator run, s
  concurrency: positiveInt('BENCH_CONCURRENCY', 50), // connections
};
// Hard limit for any one generator child, ms: 3× the run duration + 30 s.
const childTimeoutMs = (3 * settings.seconds + 30) * 1000;

const generators = [
  // resil runs with the V8 flags its CLI (bin/run.js) starts Node with; autocannon with its own defaults.
  { name: 'resil', script: path.join(here, 'gen-resil.mjs'), nodeFlags: RESIL_NODE_FLAGS },
  { name: 'autocannon', script: path.join(here, 'gen-autocannon.mjs'), nodeFlags: [] },
];

// Every generator child we start, so it can be stopped on any exit path (nginx.mjs guards nginx).
const running = new Set(); // ChildProcess
let nginx = null; // what startNginx() returned

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
  if (!fs.existsSync(path.join(repoRoot, 'dist/index.js'))) {
    throw new Error('dist/index.js is missing: run `npx tsc -p tsconfig.build.json` (or `npm run bench`)');
  }
  nginx = await startNginx();
  const { url, version: nginxVersion } = nginx;

  console.log(`node ${process.version}, ${nginxVersion}, ${os.cpus().length} CPUs`);
  console.log(
    `settings: ${settings.rounds} rounds × ${settings.seconds} s per generator, concurrency ${settings.concurrency}, target ${url}`,
  );
  console.log('');

  const rounds = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const order = round % 2 === 1 ? generators : [...generators].reverse();
    const entry = { round };
    for (const generator of order) {
      process.stderr.write(`round ${round}/${settings.rounds}: ${generator.name}... `);
      const figures = await runGenerator(generator, url);
      process.stderr.write(`${Math.round(figures.rps)} rps\n`);
      if (figures.errors > 0) console.warn(`  warning: ${generator.name} saw ${figures.errors} failed requests`);
      entry[generator.name] = { ...figures, cpuUsPerRequest: figures.cpuUs / figures.requests };
    }
    rounds.push(entry);
  }

  const medians = {};
  for (const { name } of generators) {
    medians[name] = {
      rps: median(rounds.map((r) => r[name].rps)),
      cpuUsPerRequest: median(rounds.map((r) => r[name].cpuUsPerRequest)),
      p50Ms: median(rounds.map((r) => r[name].p50Ms)),
      p99Ms: median(rounds.map((r) => r[name].p99Ms)),
    };
  }
  const ratios = {
    // > 1: resil spends more CPU per request than autocannon.
    cpuUsPerRequest: medians.resil.cpuUsPerRequest / medians.autocannon.cpuUsPerRequest,
    // < 1: resil drives fewer requests per second than autocannon.
    rps: medians.resil.rps / medians.autocannon.rps,
  };

  printTable(rounds, medians, ratios);

  const document = {
    date: new Date().toISOString(),
    node: process.version,
    nginx: nginxVersion,
    cpus: os.cpus().length,
    settings,
    units: { rps: 'requests/s', cpuUs: 'µs (user+system)', cpuUsPerRequest: 'µs/request', durationMs: 'ms', p50Ms: 'ms', p99Ms: 'ms' },
    rounds,
    medians,
    ratios: { note: 'resil / autocannon, of the medians', ...ratios },
  };
  const outDir = path.join(repoRoot, 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, 'load.json');
  fs.writeFileSync(outFile, `${JSON.stringify(document, null, 2)}\n`);
  console.log('');
  console.log(`saved ${path.relative(process.cwd(), outFile) || outFile}`);
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Runs one generator child; resolves to the JSON line it prints (see measure.mjs). */
function runGenerator(generator, url) {
  const args = [...generator.nodeFlags, generator.script, url, String(settings.concurrency), String(settings.seconds)];
  return runJsonChild({ args, cwd: repoRoot, running, timeoutMs: childTimeoutMs, name: generator.name });
}

// ---------------------------------------------------------------------------------------------
// Output

function printTable(rounds, medians, ratios) {
  const names = generators.map((g) => g.name);
  const header = ['round', ...names.flatMap((n) => [`${n} rps`, `${n} CPU µs/req`])];
  const rows = rounds.map((r) => [String(r.round), ...names.flatMap((n) => [fixed(r[n].rps, 0), fixed(r[n].cpuUsPerRequest, 2)])]);
  rows.push(['median', ...names.flatMap((n) => [fixed(medians[n].rps, 0), fixed(medians[n].cpuUsPerRequest, 2)])]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const format = (row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach((row, i) => {
    if (i === rows.length - 1) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    console.log(format(row));
  });
  console.log('');
  for (const n of names) {
    console.log(`median latency ${n}: p50 ${fixed(medians[n].p50Ms, 3)} ms, p99 ${fixed(medians[n].p99Ms, 3)} ms`);
  }
  console.log(`ratio resil/autocannon, CPU µs per request: ${fixed(ratios.cpuUsPerRequest, 3)}  (>1: resil uses more CPU per request)`);
  console.log(`ratio resil/autocannon, requests per second: ${fixed(ratios.rps, 3)}  (<1: resil is slower)`);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

async function abort(signal, exitCode) {
  console.error(`\nbench: ${signal}, stopping`);
  for (const child of running) killQuietly(child, 'SIGKILL');
  await nginx?.stop();
  process.exit(exitCode);
}
