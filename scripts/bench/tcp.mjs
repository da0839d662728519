// TCP proxy benchmark: resil's TCP proxy (startChaosProxy with a tcp:// upstream, no faults) against
// nginx's `stream` proxy and socat, all in front of the same origin, on the same machine, in one run.
//
// A benchmark, never a test: it prints figures and ratios against goals and never fails on them. A
// proxy it cannot run (nginx or its stream module missing and not installable, socat missing, resil
// without TCP proxying) is left out with the reason printed; the others still run.
//
//   npm run bench                              (runs this after schedule.mjs)
//   node scripts/bench/tcp.mjs                 (after `npm run build`)
//   BENCH_TCP_ROUNDS=5 node scripts/bench/tcp.mjs
//   BENCH_TCP_PROFILE=1 node scripts/bench/tcp.mjs   (CPU profile of resil's proxy, top functions printed)
//
// Settings (env): BENCH_TCP_ROUNDS (default 3), BENCH_TCP_BYTES per bulk transfer (default 1 GiB),
// BENCH_TCP_PINGS round trips per ping-pong (default 20,000, after 1,000 unmeasured).
//
// Processes: the origin (tcp-origin-child.mjs), each proxy, and this script as the client, each its own.
//   direct        the origin itself (the baseline)
//   resil         tcp-proxy-child.mjs: startChaosProxy({ upstream: 'tcp://127.0.0.1:ORIGIN' }), no faults
//   nginx-stream  nginx with the stream module (load_module from /usr/lib/nginx/modules), one worker,
//                 `proxy_pass 127.0.0.1:ORIGIN`, defaults otherwise (16 KiB buffers, tcp_nodelay on)
//   socat         `socat TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr,fork,nodelay TCP:127.0.0.1:ORIGIN,nodelay`
// Each round, in an order rotated every round, for each target:
//   1. bulk: connect, send 'B'; the origin sends BENCH_TCP_BYTES and closes; the client counts the bytes.
//      MB/s (10^6 bytes) from connect to the end, and the proxy's CPU time (user+sys from /proc, with
//      reaped children: socat forks one per connection) per GiB.
//   2. ping-pong at c=1: connect, send 'P'; then one byte out, one byte back, BENCH_TCP_PINGS times.
//      Median and p99 of the round trip, µs; added = the proxy's minus direct's of the same round.
// Medians over the rounds are reported, with resil's ratios to nginx-stream: throughput (goal ≥ 0.8)
// and added median round trip (goal ≤ 50 µs). Saved to bench-results/tcp.json.
//
// Loopback only. Every child is bounded (a lifetime, and a timeout per measurement) and killed at the
// end, also on SIGINT/SIGTERM. Node 20 built-ins; nginx, libnginx-mod-stream and socat from Debian
// (apt-get install when missing and we are root).

import { findOnPath, fixed, guardChildren, killQuietly, median, positiveInt } from './stats.mjs';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESIL_NODE_FLAGS } from './node-flags.mjs';
import { topSelfTime } from './cpuprofile-top.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const outFile = path.join(repoRoot, 'bench-results', 'tcp.json');
const profDir = path.join(repoRoot, 'bench-results', 'prof');

const settings = {
  rounds: positiveInt('BENCH_TCP_ROUNDS', 3),
  bytes: positiveInt('BENCH_TCP_BYTES', 1024 ** 3),
  pings: positiveInt('BENCH_TCP_PINGS', 20_000),
  profile: process.env.BENCH_TCP_PROFILE === '1',
};
const WARMUP_PINGS = 1000;
const GOALS = { throughputRatio: 0.8, addedP50Us: 50 };
const START_MS = 10_000; // how long a proxy may take to accept connections, ms
const LIFETIME_S = 3600; // the children's own limit, s (in case this process dies)
/** A measurement's limit, ms: a bulk transfer at no less than 20 MB/s, a ping-pong at 1 ms a round trip. */
const bulkLimitMs = () => 10_000 + settings.bytes / 20_000;
const pingLimitMs = () => 10_000 + settings.pings + WARMUP_PINGS;

const running = new Set(); // child processes to kill on the way out
const tempDirs = new Set();
let ticksPerSecond = null;

guardChildren(running, (_signal, code) => cleanUpAndExit(code));
process.on('exit', () => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

main().then(
  () => cleanUpAndExit(0),
  (error) => {
    console.error(`bench tcp: ${error.stack ?? error.message}`);
    cleanUpAndExit(1);
  },
);

async function main() {
  const origin = await startChild('origin', process.execPath, [
    path.join(here, 'tcp-origin-child.mjs'),
    String(settings.bytes),
    String(LIFETIME_S),
  ]);
  const targets = { direct: { port: origin.port, pids: () => [] } };
  const skipped = {};

  const resil = await startResil(origin.port).catch((error) => ({ error: error.message }));
  if (resil.error) skipped.resil = resil.error;
  else targets.resil = resil;

  const tools = ensureTools();
  if (tools.nginx.error) skipped['nginx-stream'] = tools.nginx.error;
  else {
    const nginx = await startNginxStream(tools.nginx, origin.port).catch((error) => ({ error: error.message }));
    if (nginx.error) skipped['nginx-stream'] = nginx.error;
    else targets['nginx-stream'] = nginx;
  }
  if (tools.socat.error) skipped.socat = tools.socat.error;
  else {
    const socat = await startSocat(tools.socat.bin, origin.port).catch((error) => ({ error: error.message }));
    if (socat.error) skipped.socat = socat.error;
    else targets.socat = socat;
  }
  for (const [name, reason] of Object.entries(skipped)) console.log(`not run: ${name}: ${reason}`);

  const versions = { node: process.version, nginx: tools.nginx.version ?? null, socat: tools.socat.version ?? null };
  console.log(
    `node ${versions.node}, ${versions.nginx ?? 'no nginx'}, ${versions.socat ?? 'no socat'}, ${os.cpus().length} CPUs; ` +
      `${settings.rounds} rounds, ${fixed(settings.bytes / 1024 ** 2, 0)} MiB bulk, ${settings.pings} pings`,
  );

  const names = Object.keys(targets);
  const rounds = [];
  for (let round = 0; round < settings.rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    const entry = {};
    for (const name of order) {
      const target = targets[name];
      process.stderr.write(`round ${round + 1}/${settings.rounds}: ${name} bulk... `);
      const before = cpuMsOf(target.pids());
      const bulk = await bulkTransfer(target.port);
      await target.settle?.();
      const after = cpuMsOf(target.pids());
      const cpuSPerGiB = before === null || after === null ? null : (after - before) / 1000 / (bulk.bytes / 1024 ** 3);
      process.stderr.write(`${fixed(bulk.mbPerS, 0)} MB/s; ping... `);
      const ping = await pingPong(target.port);
      process.stderr.write(`p50 ${fixed(ping.p50Us, 1)} µs, p99 ${fixed(ping.p99Us, 1)} µs\n`);
      entry[name] = { mbPerS: bulk.mbPerS, cpuSPerGiB, p50Us: ping.p50Us, p99Us: ping.p99Us };
    }
    for (const name of names) {
      entry[name].addedP50Us = entry[name].p50Us - entry.direct.p50Us;
      entry[name].addedP99Us = entry[name].p99Us - entry.direct.p99Us;
    }
    rounds.push(entry);
  }

  const medians = Object.fromEntries(
    names.map((name) => [
      name,
      Object.fromEntries(
        ['mbPerS', 'cpuSPerGiB', 'p50Us', 'p99Us', 'addedP50Us', 'addedP99Us'].map((k) => [k, median(rounds.map((r) => r[name][k]))]),
      ),
    ]),
  );
  const ratio = (a, b) => (medians[a] && medians[b] ? medians[a].mbPerS / medians[b].mbPerS : null);
  const ratios = { resilToNginx: ratio('resil', 'nginx-stream'), resilToSocat: ratio('resil', 'socat') };
  printResults(names, medians, ratios, skipped);

  for (const target of Object.values(targets)) await target.stop?.();
  const profile = settings.profile && targets.resil ? printProfile() : null;
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(
    outFile,
    `${JSON.stringify({ settings, versions, skipped, rounds, medians, ratios, goals: GOALS, profile }, null, 2)}\n`,
  );
  console.log(`saved ${path.relative(process.cwd(), outFile) || outFile}`);
}

// ---------------------------------------------------------------------------------------------
// Measurements (this process is the client)

/** Connects, asks for the bulk transfer, counts bytes to the end: { bytes, ms, mbPerS }. */
function bulkTransfer(port) {
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    let bytes = 0;
    const timer = setTimeout(
      () => socket.destroy(new Error(`bulk transfer through port ${port} took over ${bulkLimitMs()} ms`)),
      bulkLimitMs(),
    );
    socket.on('connect', () => socket.write('B'));
    socket.on('data', (chunk) => (bytes += chunk.length));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('end', () => {
      const ms = performance.now() - startMs;
      clearTimeout(timer);
      socket.destroy();
      if (bytes !== settings.bytes) reject(new Error(`bulk transfer through port ${port}: ${bytes} bytes of ${settings.bytes}`));
      else resolve({ bytes, ms, mbPerS: bytes / 1e6 / (ms / 1000) });
    });
  });
}

/** One byte out, one back, WARMUP_PINGS + settings.pings times on one connection: { p50Us, p99Us } of the measured ones. */
function pingPong(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const rtts = new Float64Array(settings.pings);
    const one = Buffer.from('x');
    let done = 0;
    let sentAt = 0n;
    const timer = setTimeout(
      () => socket.destroy(new Error(`ping-pong through port ${port} took over ${pingLimitMs()} ms`)),
      pingLimitMs(),
    );
    const send = () => {
      sentAt = process.hrtime.bigint();
      socket.write(one);
    };
    socket.on('connect', () => {
      socket.write('P');
      send();
    });
    socket.on('data', (chunk) => {
      // One byte is in flight at a time, so each chunk is its answer.
      const us = Number(process.hrtime.bigint() - sentAt) / 1000;
      if (chunk.length !== 1) return socket.destroy(new Error(`ping-pong through port ${port}: ${chunk.length} bytes back for 1`));
      if (done >= WARMUP_PINGS) rtts[done - WARMUP_PINGS] = us;
      done++;
      if (done < WARMUP_PINGS + settings.pings) return send();
      clearTimeout(timer);
      socket.destroy();
      rtts.sort();
      resolve({ p50Us: rtts[Math.floor(rtts.length * 0.5)], p99Us: rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * 0.99))] });
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The proxies

async function startResil(originPort) {
  if (!fs.existsSync(path.join(repoRoot, 'dist/proxy/proxy.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const flags = [...RESIL_NODE_FLAGS];
  if (settings.profile) {
    fs.rmSync(path.join(profDir, 'resil-tcp.cpuprofile'), { force: true });
    flags.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-name=resil-tcp.cpuprofile');
  }
  const child = await startChild('resil', process.execPath, [
    ...flags,
    path.join(here, 'tcp-proxy-child.mjs'),
    String(originPort),
    String(LIFETIME_S),
  ]);
  return child;
}

/** nginx, its version and the stream module, and socat: each { bin, version } or { error }; installs what is missing with apt-get. */
function ensureTools() {
  let nginx = findNginx();
  let socat = findSocat();
  const packages = [];
  if (nginx.error) packages.push(...(nginx.missing ?? []));
  if (socat.error) packages.push('socat');
  if (packages.length > 0) {
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!root || !findOnPath('apt-get')) {
      console.error(`bench tcp: ${packages.join(', ')} missing and not installable here (needs root and apt-get)`);
      return { nginx, socat };
    }
    console.error(`bench tcp: installing ${packages.join(' ')} with apt-get`);
    const install = spawnSync('sh', ['-c', `apt-get update -qq && apt-get install -y -qq --no-install-recommends ${packages.join(' ')}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 10 * 60 * 1000, // ms
    });
    if (install.status !== 0)
      console.error(`bench tcp: apt-get install ${packages.join(' ')} failed (${install.error?.message ?? `exit ${install.status}`})`);
    nginx = findNginx();
    socat = findSocat();
  }
  return { nginx, socat };
}

/** { bin, version, module } (module: the load_module path, or null when stream is built in), or { error, missing }. */
function findNginx() {
  const bin = findOnPath('nginx', ['/usr/sbin', '/usr/local/sbin']);
  if (!bin)
    return { error: 'nginx is not installed (apt-get install nginx libnginx-mod-stream)', missing: ['nginx', 'libnginx-mod-stream'] };
  const built = spawnSync(bin, ['-V'], { encoding: 'utf8', timeout: 10_000 });
  const text = `${built.stderr ?? ''}${built.stdout ?? ''}`;
  const version = /nginx version: (\S+)/.exec(text)?.[1] ?? 'nginx';
  if (/--with-stream(\s|$)/.test(text)) return { bin, version, module: null };
  const module = ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so'].find((f) =>
    fs.existsSync(f),
  );
  if (!module) return { error: `${version} has no stream module (apt-get install libnginx-mod-stream)`, missing: ['libnginx-mod-stream'] };
  return { bin, version, module };
}

function findSocat() {
  const bin = findOnPath('socat');
  if (!bin) return { error: 'socat is not installed (apt-get install socat)' };
  const version = /socat version (\S+)/.exec(spawnSync(bin, ['-V'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '')?.[1];
  return { bin, version: version ? `socat ${version}` : 'socat' };
}

/** nginx as a TCP proxy to the origin: its own temp dir (config, pid, logs), foreground, one worker. */
async function startNginxStream(nginx, originPort) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resil-bench-nginx-stream-'));
  tempDirs.add(dir);
  fs.chmodSync(dir, 0o755); // the worker runs unprivileged when we are root
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `# Throwaway config written by scripts/bench/tcp.mjs
${nginx.module ? `load_module ${nginx.module};\n` : ''}daemon off;
master_process on;
worker_processes 1;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events {
  worker_connections 1024;
}
stream {
  server {
    listen 127.0.0.1:${port};
    proxy_pass 127.0.0.1:${originPort};
  }
}
`,
  );
  const child = spawn(nginx.bin, ['-c', conf, '-p', `${dir}/`, '-e', `${dir}/error.log`], { stdio: ['ignore', 'inherit', 'inherit'] });
  return track('nginx-stream', child, port, () => [child.pid, ...childrenOf(child.pid)]);
}

/** socat forking a child per connection; its CPU counts the children once reaped. */
async function startSocat(bin, originPort) {
  const port = await freePort();
  const child = spawn(bin, [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay`, `TCP:127.0.0.1:${originPort},nodelay`], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const target = await track('socat', child, port, () => [child.pid]);
  // The connection's child must be gone (and reaped) before the parent's counts include it.
  target.settle = async () => {
    for (let i = 0; i < 100 && childrenOf(child.pid).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  return target;
}

/** A child that listens on `port`: resolves to { port, pids, stop } once a connection is accepted. */
async function track(name, child, port, pids) {
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.on('error', () => {});
  const stop = async () => {
    killQuietly(child, 'SIGTERM');
    const timer = setTimeout(() => killQuietly(child, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    running.delete(child);
  };
  const deadline = performance.now() + START_MS;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      await stop();
      throw new Error(`${name} did not accept connections on 127.0.0.1:${port} (exit ${child.exitCode})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, pids, stop };
}

/** A node child that prints one JSON line ({ port } or { error }): resolves to { port, pids, stop }. */
function startChild(name, bin, args) {
  const child = spawn(bin, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      killQuietly(child, 'SIGKILL');
      reject(new Error(`${name} printed nothing within ${START_MS / 1000} s`));
    }, START_MS);
    child.on('error', (error) => reject(error));
    child.once('exit', (code) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`${name} exited (code ${code}) before it listened`));
    });
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      const line = JSON.parse(buffer.slice(0, newline));
      if (line.error) return reject(new Error(line.error));
      resolve({
        port: line.port,
        pids: () => [child.pid],
        stop: async () => {
          killQuietly(child, 'SIGTERM');
          const escalate = setTimeout(() => killQuietly(child, 'SIGKILL'), 5000);
          await exited;
          clearTimeout(escalate);
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Output

function printResults(names, medians, ratios, skipped) {
  console.log('');
  console.log(
    `medians of ${settings.rounds} rounds (bulk: ${fixed(settings.bytes / 1024 ** 2, 0)} MiB; ping-pong: ${settings.pings} round trips at c=1)`,
  );
  const rows = names.map((name) => {
    const m = medians[name];
    const direct = name === 'direct';
    return [
      name,
      fixed(m.mbPerS, 0),
      direct ? '' : fixed(m.cpuSPerGiB, 2),
      fixed(m.p50Us, 1),
      fixed(m.p99Us, 1),
      direct ? '' : signed(m.addedP50Us, 1),
      direct ? '' : signed(m.addedP99Us, 1),
    ];
  });
  printTable(['target', 'bulk MB/s', 'proxy CPU s/GiB', 'rtt p50 µs', 'rtt p99 µs', 'added p50 µs', 'added p99 µs'], rows);
  console.log('');
  if (medians.resil && medians['nginx-stream']) {
    console.log(
      `resil / nginx-stream throughput: ${fixed(ratios.resilToNginx, 2)} (goal ≥ ${GOALS.throughputRatio}: ${ratios.resilToNginx >= GOALS.throughputRatio ? 'met' : 'NOT met'})`,
    );
  }
  if (medians.resil && medians.socat) console.log(`resil / socat throughput: ${fixed(ratios.resilToSocat, 2)}`);
  if (medians.resil) {
    const added = medians.resil.addedP50Us;
    console.log(
      `resil added round trip (p50): ${signed(added, 1)} µs (goal ≤ ${GOALS.addedP50Us} µs: ${added <= GOALS.addedP50Us ? 'met' : 'NOT met'})`,
    );
  }
  for (const [name, reason] of Object.entries(skipped)) console.log(`not run: ${name}: ${reason}`);
}

function printProfile() {
  const file = path.join(profDir, 'resil-tcp.cpuprofile');
  if (!fs.existsSync(file)) {
    console.warn(`warning: no profile at ${file}`);
    return null;
  }
  const { totalMs, busyMs, top } = topSelfTime(JSON.parse(fs.readFileSync(file, 'utf8')), 25);
  console.log(
    `\ntop self time, resil TCP proxy (${path.relative(process.cwd(), file)}, ${fixed(totalMs, 0)} ms sampled, ${fixed(busyMs, 0)} ms busy):`,
  );
  printTable(
    ['self ms', 'busy %', 'function', 'where'],
    top.map((t) => [fixed(t.selfMs, 1), fixed(t.selfPercent, 1), t.functionName, t.where]),
  );
  return { file: path.relative(repoRoot, file), totalMs, busyMs, top };
}

function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (r) =>
    r
      .map((cell, i) => (i === 0 || (header[0] === 'self ms' && i >= 2) ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(format(r));
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function signed(value, digits) {
  return typeof value === 'number' && Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(digits)}` : 'n/a';
}

/** utime + stime (+ reaped children's) of processes from /proc/<pid>/stat, summed, ms; null when unavailable. */
function cpuMsOf(pids) {
  if (pids.length === 0) return null;
  let ticks = 0;
  try {
    for (const pid of pids) {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]); // #14-#17
    }
  } catch {
    return null;
  }
  if (ticksPerSecond === null) ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
  return (ticks * 1000) / ticksPerSecond;
}

function childrenOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** True when a TCP connection to 127.0.0.1:port is accepted. */
function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
  });
}

async function cleanUpAndExit(code) {
  for (const child of running) killQuietly(child, 'SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, running.size > 0 ? 200 : 0));
  for (const child of running) killQuietly(child, 'SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}
