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
//  1. Makes sure nginx is installed (apt-get install nginx-light if not), writes a throwaway
//     nginx.conf into a temp dir and starts nginx in the foreground on 127.0.0.1:<free port>,
//     answering every request with 200 "hello world\n". nginx is always stopped at the end.
//  2. Runs the two generators alternately, each run in a fresh `node` child process
//     (gen-resil.mjs, gen-autocannon.mjs), so each child's process.cpuUsage() is that generator's
//     CPU alone. The order flips every round (A B, B A, ...) so neither always runs first.
//  3. Prints per-round rps and CPU µs per request, the per-tool medians and the ratios
//     resil / autocannon, and saves everything to bench-results/load.json.
//
// Node 20 built-ins only. Every child is bounded by a timeout, after which it is killed.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
  { name: 'resil', script: path.join(here, 'gen-resil.mjs') },
  { name: 'autocannon', script: path.join(here, 'gen-autocannon.mjs') },
];

// Everything we start, so it can be stopped on any exit path.
const running = new Set(); // ChildProcess
let nginx = null; // { child, dir }

process.on('SIGINT', () => abort('SIGINT', 130));
process.on('SIGTERM', () => abort('SIGTERM', 143));
// Last resort (synchronous): never leave a child behind. nginx gets SIGTERM so that its master
// also stops its worker (SIGKILL would orphan the worker).
process.on('exit', () => {
  for (const child of running) killQuietly(child, child === nginx?.child ? 'SIGTERM' : 'SIGKILL');
});

try {
  await main();
} catch (error) {
  console.error(`bench: ${error?.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await stopNginx();
}

async function main() {
  if (!fs.existsSync(path.join(repoRoot, 'dist/index.js'))) {
    throw new Error('dist/index.js is missing: run `npx tsc -p tsconfig.build.json` (or `npm run bench`)');
  }
  const nginxBin = ensureNginx();
  const nginxVersion = versionOfNginx(nginxBin);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  await startNginx(nginxBin, port);
  await waitUntilAnswering(url, 10_000);

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
  fs.writeFileSync(outFile, JSON.stringify(document, null, 2) + '\n');
  console.log('');
  console.log(`saved ${path.relative(process.cwd(), outFile) || outFile}`);
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Runs one generator child; resolves to the JSON line it prints (see measure.mjs). */
function runGenerator(generator, url) {
  const args = [generator.script, url, String(settings.concurrency), String(settings.seconds)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    running.add(child);
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const timer = setTimeout(() => {
      killQuietly(child, 'SIGKILL');
      reject(new Error(`${generator.name} child did not finish within ${childTimeoutMs / 1000} s; killed`));
    }, childTimeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const line = stdout.trim().split('\n').pop();
      if (code !== 0 || !line) {
        reject(new Error(`${generator.name} child exited with ${signal ?? `code ${code}`}; stdout: ${stdout.trim() || '(empty)'}`));
        return;
      }
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`${generator.name} child printed no JSON result: ${line}`));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Output

function printTable(rounds, medians, ratios) {
  const names = generators.map((g) => g.name);
  const header = ['round', ...names.flatMap((n) => [`${n} rps`, `${n} CPU µs/req`])];
  const rows = rounds.map((r) => [
    String(r.round),
    ...names.flatMap((n) => [fixed(r[n].rps, 0), fixed(r[n].cpuUsPerRequest, 2)]),
  ]);
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
// nginx

/** Path of the nginx binary; installs nginx-light with apt-get if there is none. */
function ensureNginx() {
  const found = findNginx();
  if (found) return found;
  console.error('bench: nginx not found; installing nginx-light with apt-get');
  const install = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y nginx-light'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 10 * 60 * 1000, // ms
  });
  if (install.status !== 0) throw new Error(`apt-get install nginx-light failed (${install.error?.message ?? `exit ${install.status}`})`);
  const installed = findNginx();
  if (!installed) throw new Error('nginx still not found after installing nginx-light');
  return installed;
}

function findNginx() {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'nginx');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function versionOfNginx(bin) {
  const result = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 10_000 });
  // nginx prints "nginx version: nginx/1.22.1" on stderr.
  return (result.stderr || result.stdout || '').trim().replace(/^nginx version:\s*/, '') || 'nginx (unknown version)';
}

async function startNginx(bin, port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resil-bench-nginx-'));
  // The worker runs as an unprivileged user when we are root; let it into the directory.
  fs.chmodSync(dir, 0o755);
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `# Throwaway config written by scripts/bench/run.mjs
daemon off;
master_process on;
worker_processes 1;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;

events {
  worker_connections 4096;
}

http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  server {
    listen 127.0.0.1:${port};
    default_type text/plain;
    location / {
      return 200 "hello world\\n";
    }
  }
}
`,
  );
  // -e: error log before the config is read (otherwise the compiled-in default path is used).
  const child = spawn(bin, ['-c', conf, '-p', `${dir}/`, '-e', `${dir}/error.log`], { stdio: ['ignore', 'inherit', 'inherit'] });
  nginx = { child, dir, exited: new Promise((resolve) => child.on('exit', resolve)) };
  running.add(child);
  child.on('error', (error) => console.error(`bench: nginx failed to start: ${error.message}`));
  child.on('exit', (code, signal) => {
    running.delete(child);
    if (!nginx?.stopping) console.error(`bench: nginx exited early (${signal ?? `code ${code}`}); see ${dir}/error.log`);
  });
}

/** Stops nginx (SIGTERM, so the master takes its worker down; SIGKILL after 5 s) and removes its temp dir. */
async function stopNginx() {
  if (!nginx) return;
  const { child, dir, exited } = nginx;
  nginx.stopping = true;
  if (child.exitCode === null && child.signalCode === null) {
    killQuietly(child, 'SIGTERM');
    const timer = setTimeout(() => killQuietly(child, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  nginx = null;
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Polls GET <url> until it answers 200 "hello world\n", up to timeoutMs (ms). */
async function waitUntilAnswering(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (nginx && nginx.child.exitCode !== null) throw new Error(`nginx exited; see ${nginx.dir}/error.log`);
    try {
      const { status, body } = await get(url);
      if (status === 200 && body === 'hello world\n') return;
      last = new Error(`unexpected answer ${status} ${JSON.stringify(body)}`);
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nginx did not answer at ${url} within ${timeoutMs} ms: ${last?.message}`);
}

function get(url) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: 2000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** A free TCP port on 127.0.0.1: listen on port 0, read the port, close. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function abort(signal, exitCode) {
  console.error(`\nbench: ${signal}, stopping`);
  for (const child of running) if (child !== nginx?.child) killQuietly(child, 'SIGKILL');
  await stopNginx();
  process.exit(exitCode);
}

function killQuietly(child, signal) {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fixed(value, digits) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}
