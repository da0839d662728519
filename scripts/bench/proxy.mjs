// Proxy benchmark: resil's chaos proxy vs nginx as a reverse proxy and vs a bare undici proxy (the
// Node floor), all in front of the same nginx origin, loaded with wrk. Like for like: every proxy
// is a process of its own (nginx: its own master and single worker, apart from the origin's).
//
// A benchmark, never a test: it prints figures and ratios against goals and never fails on them.
//
//   npm run bench                                   (runs this after run.mjs and memory.mjs)
//   BENCH_PROXY_ROUNDS=2 BENCH_PROXY_SECONDS=3 node scripts/bench/proxy.mjs
//   BENCH_PROXY_PROFILE=1 node scripts/bench/proxy.mjs   (CPU profile of the resil proxies)
//   BENCH_PROXY_OBSERVE=1 node scripts/bench/proxy.mjs   (adds resil-observed and resil-observed-off)
//
// Settings (env): BENCH_PROXY_ROUNDS (default 3), BENCH_PROXY_SECONDS per wrk run (default 5),
// BENCH_PROXY_OBSERVE=1: two more proxies, resil-observed (every call observed, as in a chaos run:
// --correlate auto, wrk sending one X-Request-Id) and resil-observed-off (an observer, --correlate off);
// it prints their CPU µs per request ÷ resil's (the goal: observation costs at most 10%).
// BENCH_PROXY_PROFILE=1: start the node children (resil and undici-bare) with --cpu-prof
// --cpu-prof-dir=bench-results/prof, make only the c=50 runs, and print the top self-time functions
// of each profile at the end.
//
// Targets:
//   origin          nginx answering 200 "hello world\n" (direct; the c=1 baseline)
//   nginx-proxy     nginx reverse proxy to the origin in an nginx of its own (nginx.mjs with proxyTo:
//                   one worker process, access log off, keep-alive upstream over HTTP/1.1)
//   resil           startChaosProxy({ upstream }) in its own node child (proxy-child.mjs), no
//                   faults: the fault layer is still consulted on every call
//   resil-targeted  the same with { failureRate: 1, faults: 'status:503', matchPath: '/never/**' }:
//                   the targeting decision runs on every call and never faults
//   undici-bare     the "bare undici proxy" peer, no resil code (bare-proxy-child.mjs): http.createServer
//                   + one undici Pool (connections 256, pipelining 1, keep-alive), each request
//                   forwarded with pool.dispatch and a plain handler (faster here than pool.request +
//                   piping the body), status, headers less hop-by-hop ones and body copied back
// The node children (resil, resil-targeted, undici-bare) all run with the V8 flags resil's CLI uses
// (node-flags.mjs), so the comparison with undici-bare is like for like.
//
// Each round, in an order rotated every round, for each proxy:
//   1. throughput: wrk -t1 -c50 -d<s>s --latency <proxy>  → requests/s, and the proxy's CPU time
//                  (user+sys from /proc of its processes: nginx's master and worker) per request
//   2. latency:    wrk -t1 -c1  -d<s>s --latency <proxy>  → p50 and mean
// and once per round the origin directly at c=1. Added latency = proxy's c=1 p50 (mean) minus the
// origin's c=1 p50 (mean) of the same round, ms. Medians over the rounds are reported, and resil's
// ratios to nginx-proxy and to undici-bare (of the medians): req/s at c=50 (goal against nginx
// ≥ 0.5), CPU µs per request, added p50 at c=1 (goal for resil ≤ 0.1 ms).
// Saved to bench-results/proxy.json.
//
// Loopback only. Every child (wrk, proxies) is bounded by a timeout and killed at the end, also on
// SIGINT/SIGTERM; nginx.mjs guards nginx. Node 20 built-ins only, plus the `wrk` binary (apt-get
// install -y wrk if missing).

import { findOnPath, fixed, guardChildren, killQuietly, median, positiveInt, printTable } from './stats.mjs';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx.mjs';
import { RESIL_NODE_FLAGS } from './node-flags.mjs';
import { topSelfTime } from './cpuprofile-top.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const outDir = path.join(repoRoot, 'bench-results');
const profDir = path.join(outDir, 'prof');

const settings = {
  rounds: positiveInt('BENCH_PROXY_ROUNDS', 3),
  seconds: positiveInt('BENCH_PROXY_SECONDS', 5), // duration of each wrk run, s
  concurrency: 50, // connections of the throughput runs
  profile: process.env.BENCH_PROXY_PROFILE === '1',
  observe: process.env.BENCH_PROXY_OBSERVE === '1',
};
const goals = { rpsRatio: 0.5, resilAddedLatencyMs: 0.1 };
const wrkTimeoutMs = (settings.seconds + 20) * 1000; // hard limit for one wrk run, ms
const warmupSeconds = 2; // one unmeasured c=50 run per proxy before round 1, s
const proxyStartTimeoutMs = 10_000; // how long a node proxy child may take to print its url, ms
const proxyStopTimeoutMs = 5_000; // SIGTERM → SIGKILL escalation for a node proxy child, ms
const proxyNames = [
  'nginx-proxy',
  'resil',
  'resil-targeted',
  'undici-bare',
  ...(settings.observe ? ['resil-observed', 'resil-observed-off'] : []),
];
// The node proxy children: script and the arguments after the upstream url (then the lifetime, s).
const nodeChildren = {
  resil: { script: 'proxy-child.mjs', args: ['plain'] },
  'resil-targeted': { script: 'proxy-child.mjs', args: ['targeted'] },
  'undici-bare': { script: 'bare-proxy-child.mjs', args: [] },
  ...(settings.observe
    ? {
        'resil-observed': { script: 'proxy-child.mjs', args: ['observed'] },
        'resil-observed-off': { script: 'proxy-child.mjs', args: ['observed-off'] },
      }
    : {}),
};

const running = new Set(); // every child we started and that has not exited yet
let nginx = null; // the origin: what startNginx() returned
let nginxProxy = null; // nginx as a reverse proxy, in its own nginx: what startNginx({ proxyTo }) returned
let aborting = false; // set on SIGINT/SIGTERM: the children are being killed, their failures are expected
let ticksPerSecond = null; // clock ticks per second of /proc/<pid>/stat, once asked (clockTicks())

guardChildren(running, abort);

try {
  await main();
} catch (error) {
  if (!aborting) console.error(`bench: ${error?.stack ?? error}`);
  process.exitCode = 1;
} finally {
  for (const child of running) killQuietly(child, 'SIGKILL');
  await nginxProxy?.stop();
  await nginx?.stop();
}

async function main() {
  if (!fs.existsSync(path.join(repoRoot, 'dist/proxy/proxy.js'))) {
    throw new Error('dist/proxy/proxy.js is missing: run `npx tsc -p tsconfig.build.json` (or `npm run bench`)');
  }
  const wrk = ensureWrk();

  nginx = await startNginx();
  nginxProxy = await startNginx({ proxyTo: nginx.port });
  const originUrl = nginx.url;
  const urls = { origin: originUrl, 'nginx-proxy': nginxProxy.url };

  const lifetimeS = Math.ceil(
    settings.rounds * (2 * proxyNames.length + 1) * (settings.seconds + 20) + proxyNames.length * (warmupSeconds + 20) + 120,
  );
  if (settings.profile) {
    fs.rmSync(profDir, { recursive: true, force: true });
    fs.mkdirSync(profDir, { recursive: true });
  }
  const proxies = {};
  for (const [name, spec] of Object.entries(nodeChildren)) {
    proxies[name] = await startProxyChild(name, spec, originUrl, lifetimeS);
    urls[name] = proxies[name].url;
  }
  const wrkVersion = (spawnSync(wrk, ['-v'], { encoding: 'utf8', timeout: 10_000 }).stdout || '').split('\n')[0].trim();

  console.log(`node ${process.version}, ${nginx.version}, ${wrkVersion || 'wrk'}, ${os.cpus().length} CPUs`);
  console.log(
    `settings: ${settings.rounds} rounds × ${settings.seconds} s per wrk run; c=${settings.concurrency} (throughput) and c=1 (latency)` +
      (settings.profile ? '; PROFILING the node proxies (c=50 runs only; figures are distorted)' : ''),
  );
  for (const name of ['origin', ...proxyNames]) console.log(`  ${name.padEnd(15)} ${urls[name]}`);
  console.log('');

  // Warm-up (JIT, connection pools), unmeasured.
  for (const name of proxyNames) {
    process.stderr.write(`warm-up ${name}... `);
    const result = await runWrk(wrk, urls[name], settings.concurrency, warmupSeconds);
    process.stderr.write(`${Math.round(result.rps)} req/s\n`);
  }

  const rounds = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const shift = (round - 1) % proxyNames.length;
    const order = [...proxyNames.slice(shift), ...proxyNames.slice(0, shift)];
    const entry = { round, order };

    if (!settings.profile) {
      process.stderr.write(`round ${round}/${settings.rounds}: origin c=1... `);
      entry.origin = { c1: await measure(wrk, 'origin', urls.origin, 1) };
      process.stderr.write(`p50 ${fixed(entry.origin.c1.p50Ms, 3)} ms\n`);
    }
    for (const name of order) {
      const figures = {};
      process.stderr.write(`round ${round}/${settings.rounds}: ${name} c=${settings.concurrency}... `);
      const pids = processesOf(name, proxies);
      const cpuBefore = cpuMsOf(pids);
      figures.c50 = await measure(wrk, name, urls[name], settings.concurrency);
      const cpuAfter = cpuMsOf(pids);
      if (cpuBefore !== null && cpuAfter !== null && figures.c50.requests > 0) {
        figures.c50.proxyCpuUsPerRequest = ((cpuAfter - cpuBefore) * 1000) / figures.c50.requests;
      }
      process.stderr.write(`${Math.round(figures.c50.rps)} req/s`);
      if (!settings.profile) {
        process.stderr.write(`; c=1... `);
        figures.c1 = await measure(wrk, name, urls[name], 1);
        figures.c1.addedP50Ms = figures.c1.p50Ms - entry.origin.c1.p50Ms;
        figures.c1.addedMeanMs = figures.c1.meanMs - entry.origin.c1.meanMs;
        process.stderr.write(`p50 ${fixed(figures.c1.p50Ms, 3)} ms (+${fixed(figures.c1.addedP50Ms, 3)})`);
      }
      process.stderr.write('\n');
      entry[name] = figures;
    }
    rounds.push(entry);
  }

  // Stop the node children (their final line has their stats; with --cpu-prof they write the profile).
  const proxyStats = {};
  for (const name of Object.keys(proxies)) proxyStats[name] = await proxies[name].stop();

  const medians = {};
  if (!settings.profile) {
    medians.origin = { c1: { p50Ms: med(rounds, (r) => r.origin.c1.p50Ms), meanMs: med(rounds, (r) => r.origin.c1.meanMs) } };
  }
  for (const name of proxyNames) {
    medians[name] = {
      c50: {
        rps: med(rounds, (r) => r[name].c50.rps),
        p50Ms: med(rounds, (r) => r[name].c50.p50Ms),
        p99Ms: med(rounds, (r) => r[name].c50.p99Ms),
        proxyCpuUsPerRequest: med(rounds, (r) => r[name].c50.proxyCpuUsPerRequest),
      },
    };
    if (!settings.profile) {
      medians[name].c1 = {
        p50Ms: med(rounds, (r) => r[name].c1.p50Ms),
        meanMs: med(rounds, (r) => r[name].c1.meanMs),
        addedP50Ms: med(rounds, (r) => r[name].c1.addedP50Ms),
        addedMeanMs: med(rounds, (r) => r[name].c1.addedMeanMs),
      };
    }
  }
  // resil ÷ peer, of the medians: above 1 means more (req/s: better; CPU and added latency: worse).
  const ratio = (peer, pick) => pick(medians.resil) / pick(medians[peer]);
  const ratios = {};
  for (const peer of ['nginx-proxy', 'undici-bare']) {
    ratios[peer] = {
      rps: ratio(peer, (m) => m.c50.rps),
      cpuUsPerRequest: ratio(peer, (m) => m.c50.proxyCpuUsPerRequest),
      ...(settings.profile ? {} : { addedP50Ms: ratio(peer, (m) => m.c1.addedP50Ms) }),
    };
  }
  ratios.resilTargetedRpsOverNginx = medians['resil-targeted'].c50.rps / medians['nginx-proxy'].c50.rps;
  if (settings.observe) {
    const cpu = (name) => medians[name].c50.proxyCpuUsPerRequest;
    ratios.observedCpuOverResil = cpu('resil-observed') / cpu('resil');
    ratios.observedOffCpuOverResil = cpu('resil-observed-off') / cpu('resil');
  }

  printResults(rounds, medians, ratios, proxyStats);

  let profiles;
  if (settings.profile) profiles = printProfiles();

  const document = {
    date: new Date().toISOString(),
    node: process.version,
    nginx: nginx.version,
    wrk: wrkVersion,
    cpus: os.cpus().length,
    settings,
    goals: { note: 'resil req/s ÷ nginx-proxy req/s at c=50 ≥ rpsRatio; resil added p50 at c=1 ≤ resilAddedLatencyMs', ...goals },
    units: {
      rps: 'requests/s',
      p50Ms: 'ms',
      p99Ms: 'ms',
      meanMs: 'ms',
      addedP50Ms: 'ms',
      addedMeanMs: 'ms',
      proxyCpuUsPerRequest: 'µs/request (user+system of the proxy: the node child, or the nginx master and worker)',
    },
    urls,
    rounds,
    medians,
    ratios: {
      note:
        'resil ÷ peer, of the medians: rps and CPU µs per request at c=50, added p50 at c=1; ' +
        'resilTargetedRpsOverNginx resil-targeted ÷ nginx-proxy req/s at c=50',
      ...ratios,
    },
    proxyStats,
    ...(profiles ? { profiles } : {}),
  };
  fs.mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, settings.profile ? 'proxy-profile.json' : 'proxy.json');
  fs.writeFileSync(outFile, `${JSON.stringify(document, null, 2)}\n`);
  console.log('');
  console.log(`saved ${path.relative(process.cwd(), outFile) || outFile}`);
}

// ---------------------------------------------------------------------------------------------
// wrk

/** Path of wrk; installs the Debian package with apt-get if there is none. */
function ensureWrk() {
  const found = findOnPath('wrk', ['/usr/bin', '/usr/local/bin']);
  if (found) return found;
  console.error('bench: wrk not found; installing it with apt-get');
  const install = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y wrk'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 10 * 60 * 1000, // ms
  });
  if (install.status !== 0) throw new Error(`apt-get install wrk failed (${install.error?.message ?? `exit ${install.status}`})`);
  const installed = findOnPath('wrk', ['/usr/bin', '/usr/local/bin']);
  if (!installed) throw new Error('wrk still not found after apt-get install wrk');
  return installed;
}

/** One measured wrk run; warns about errors and non-2xx answers. */
async function measure(wrk, name, url, connections) {
  const result = await runWrk(wrk, url, connections, settings.seconds);
  if (result.socketErrors > 0 || result.non2xx > 0) {
    console.warn(`\n  warning: ${name} c=${connections}: ${result.non2xx} non-2xx answers, ${result.socketErrors} socket errors`);
  }
  return result;
}

/** Runs `wrk -t1 -c<connections> -d<seconds>s --latency <url>` and parses its output. */
function runWrk(wrk, url, connections, seconds) {
  // With observation measured, every proxy gets the header a service propagating resil's ids would send.
  const header = settings.observe ? ['-H', 'X-Request-Id: 0123456789abcdef0000000000000001'] : [];
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...header, url];
  return new Promise((resolve, reject) => {
    const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      killQuietly(child, 'SIGKILL');
      reject(new Error(`wrk ${args.join(' ')} did not finish within ${wrkTimeoutMs / 1000} s; killed`));
    }, wrkTimeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (code !== 0) {
        reject(new Error(`wrk ${args.join(' ')} exited with ${signal ?? `code ${code}`}: ${(stderr + stdout).trim()}`));
        return;
      }
      try {
        resolve(parseWrk(stdout));
      } catch (error) {
        reject(new Error(`${error.message}; wrk output:\n${stdout}`));
      }
    });
  });
}

/** Requests/sec, latency mean and distribution (ms), request count, errors, from wrk --latency output. */
export function parseWrk(text) {
  const rps = text.match(/^Requests\/sec:\s+([\d.]+)/m);
  const mean = text.match(/^\s*Latency\s+([\d.]+)(us|ms|s)\b/m);
  const requests = text.match(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)\b/m);
  if (!rps || !mean || !requests) throw new Error('cannot parse wrk output');
  const percentile = (p) => {
    const found = text.match(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\b`, 'm'));
    return found ? toMs(found[1], found[2]) : null;
  };
  const non2xx = text.match(/Non-2xx or 3xx responses:\s+(\d+)/);
  const socket = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    rps: Number(rps[1]),
    requests: Number(requests[1]),
    meanMs: toMs(mean[1], mean[2]),
    p50Ms: percentile(50),
    p75Ms: percentile(75),
    p90Ms: percentile(90),
    p99Ms: percentile(99),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

function toMs(value, unit) {
  const factor = { us: 1e-3, ms: 1, s: 1e3 }[unit];
  return Number(value) * factor;
}

// ---------------------------------------------------------------------------------------------
// node proxy children

/**
 * Starts a node proxy child (proxy-child.mjs or bare-proxy-child.mjs) with RESIL_NODE_FLAGS; resolves
 * to { url, child, stop() } once it printed its url. stop() resolves to its stats.
 */
function startProxyChild(name, spec, upstream, lifetimeS) {
  const flags = [...RESIL_NODE_FLAGS];
  if (settings.profile) flags.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}.cpuprofile`);
  const scriptArgs =
    spec.script === 'proxy-child.mjs' ? [upstream, ...spec.args, String(lifetimeS)] : [upstream, String(lifetimeS), ...spec.args];
  const child = spawn(process.execPath, [...flags, path.join(here, spec.script), ...scriptArgs], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  const lines = [];
  let buffer = '';
  let onLine = null;
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) lines.push(line);
      onLine?.();
    }
  });
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve([code, signal]);
    }),
  );

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killQuietly(child, 'SIGKILL');
      reject(new Error(`${name} proxy child printed no url within ${proxyStartTimeoutMs / 1000} s; killed`));
    }, proxyStartTimeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`${name} proxy child exited early (${signal ?? `code ${code}`})`));
    });
    onLine = () => {
      if (lines.length === 0) return;
      onLine = null;
      clearTimeout(timer);
      let url;
      try {
        url = JSON.parse(lines[0]).url;
      } catch {
        killQuietly(child, 'SIGKILL');
        reject(new Error(`${name} proxy child printed no JSON url: ${lines[0]}`));
        return;
      }
      if (!url.endsWith('/')) url += '/';
      let stopping = null;
      const stop = () => {
        stopping ??= (async () => {
          killQuietly(child, 'SIGTERM');
          const escalate = setTimeout(() => killQuietly(child, 'SIGKILL'), proxyStopTimeoutMs);
          await exited;
          clearTimeout(escalate);
          try {
            return JSON.parse(lines[lines.length - 1]).stats ?? null;
          } catch {
            return null;
          }
        })();
        return stopping;
      };
      resolve({ url, child, stop });
    };
  });
}

/** The processes doing a proxy's work: the node child, or nginx's master and its worker. */
function processesOf(name, proxies) {
  if (proxies[name]) return [proxies[name].child.pid];
  if (name === 'nginx-proxy') return [nginxProxy.pid, ...childrenOf(nginxProxy.pid)];
  return [];
}

/** Child pids from /proc/<pid>/task/<pid>/children (Linux). */
function childrenOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** utime + stime of processes from /proc/<pid>/stat, summed, ms; null when unavailable. */
function cpuMsOf(pids) {
  if (pids.length === 0) return null;
  let ticks = 0;
  try {
    for (const pid of pids) {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
      ticks += Number(fields[11]) + Number(fields[12]); // #14 utime, #15 stime
    }
  } catch {
    return null;
  }
  return (ticks * 1000) / clockTicks();
}

function clockTicks() {
  if (ticksPerSecond === null) {
    const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
    ticksPerSecond = Number(result.stdout?.trim()) || 100;
  }
  return ticksPerSecond;
}

// ---------------------------------------------------------------------------------------------
// Output

function printResults(rounds, medians, ratios, proxyStats) {
  const c1 = !settings.profile;
  const header = ['round', ...proxyNames.map((n) => `${n} req/s`)];
  if (c1) header.push('origin p50', ...proxyNames.map((n) => `${n} +p50`));
  const row = (label, get) => {
    const cells = [label, ...proxyNames.map((n) => fixed(get(n)?.c50?.rps, 0))];
    if (c1) cells.push(fixed(get('origin')?.c1?.p50Ms, 3), ...proxyNames.map((n) => fixed(get(n)?.c1?.addedP50Ms, 3)));
    return cells;
  };
  const rows = rounds.map((r) => row(String(r.round), (n) => r[n]));
  rows.push(row('median', (n) => medians[n]));
  printTable(header, rows);
  console.log(
    `(req/s at c=${settings.concurrency}; latency columns at c=1, ms: origin p50 direct, then each proxy's p50 minus the origin's)`,
  );
  console.log('');

  if (c1) {
    console.log(`origin direct at c=1: p50 ${fixed(medians.origin.c1.p50Ms, 3)} ms, mean ${fixed(medians.origin.c1.meanMs, 3)} ms`);
    for (const n of proxyNames) {
      const m = medians[n].c1;
      const goal = `  goal ≤ ${goals.resilAddedLatencyMs} ms: ${verdict(m.addedP50Ms <= goals.resilAddedLatencyMs)}`;
      console.log(
        `added latency at c=1, ${n.padEnd(14)}: p50 ${signed(m.addedP50Ms, 3)} ms, mean ${signed(m.addedMeanMs, 3)} ms` +
          `  (p50 ${fixed(m.p50Ms, 3)} ms, mean ${fixed(m.meanMs, 3)} ms)` +
          (n.startsWith('resil') ? goal : ''),
      );
    }
  }
  for (const n of proxyNames) {
    const m = medians[n].c50;
    console.log(
      `c=${settings.concurrency} ${n.padEnd(14)}: ${fixed(m.rps, 0)} req/s, p50 ${fixed(m.p50Ms, 3)} ms, p99 ${fixed(m.p99Ms, 3)} ms` +
        (m.proxyCpuUsPerRequest !== undefined ? `, proxy CPU ${fixed(m.proxyCpuUsPerRequest, 1)} µs/req` : ''),
    );
  }
  console.log('');
  console.log('resil ÷ peer (of the medians; req/s: above 1 is better; CPU and added latency: above 1 is worse):');
  printTable(
    ['peer', `req/s c=${settings.concurrency}`, 'CPU µs/req', ...(c1 ? ['added p50 c=1'] : [])],
    ['nginx-proxy', 'undici-bare'].map((peer) => [
      peer,
      fixed(ratios[peer].rps, 3),
      fixed(ratios[peer].cpuUsPerRequest, 3),
      ...(c1 ? [fixed(ratios[peer].addedP50Ms, 2)] : []),
    ]),
  );
  console.log(
    `goal resil ÷ nginx-proxy req/s ≥ ${goals.rpsRatio}: ${verdict(ratios['nginx-proxy'].rps >= goals.rpsRatio)} ` +
      `(resil-targeted: ${fixed(ratios.resilTargetedRpsOverNginx, 3)})`,
  );
  if (settings.observe) {
    console.log(
      `observation, CPU µs/req ÷ resil's: resil-observed ${fixed(ratios.observedCpuOverResil, 3)}, ` +
        `resil-observed-off ${fixed(ratios.observedOffCpuOverResil, 3)} (goal ≤ 1.10: ` +
        `${verdict(ratios.observedCpuOverResil <= 1.1)})`,
    );
  }
  console.log('');
  for (const [name, stats] of Object.entries(proxyStats)) {
    if (!stats) {
      console.warn(`warning: ${name} printed no stats`);
      continue;
    }
    if (name === 'undici-bare') {
      console.log(
        `${name} stats: ${stats.calls} calls, ${stats.completed} completed, ${stats.upstreamErrors} upstream errors, ` +
          `${stats.clientAborts} cut off by the client`,
      );
      continue;
    }
    const injected = Object.values(stats.injected ?? {}).reduce((sum, n) => sum + n, 0);
    console.log(
      `${name} stats: ${stats.calls} calls, ${stats.passedThrough} passed through, ${injected} injected, ` +
        `${stats.upstreamErrors} upstream errors`,
    );
    if (injected > 0) console.warn(`warning: ${name} faulted ${injected} calls; its figures are not pass-through`);
    // wrk closes its connections at the end of each run with requests in flight; the proxy counts
    // those cut-off forwards as upstream errors, so a few dozen per run are expected.
    if (stats.upstreamErrors > 0)
      console.log(`  (${name}: upstream errors include requests cut off when wrk closes its connections at the end of a run)`);
  }
  console.log(
    'note: each proxy is a process of its own (nginx-proxy: its own master and one worker, apart from the origin); ' +
      'wrk, the origin and the proxy share the machine.',
  );
}

function printProfiles() {
  const profiles = {};
  for (const name of Object.keys(nodeChildren)) {
    const file = path.join(profDir, `${name}.cpuprofile`);
    if (!fs.existsSync(file)) {
      console.warn(`warning: no profile at ${file}`);
      continue;
    }
    const { totalMs, busyMs, top } = topSelfTime(JSON.parse(fs.readFileSync(file, 'utf8')), 25);
    profiles[name] = { file: path.relative(repoRoot, file), totalMs, busyMs, top };
    console.log('');
    console.log(
      `top self time, ${name} (${path.relative(process.cwd(), file)}, ` +
        `${fixed(totalMs, 0)} ms sampled, ${fixed(busyMs, 0)} ms busy; % of busy):`,
    );
    printTable(
      ['self ms', 'busy %', 'function', 'where'],
      top.map((t) => [fixed(t.selfMs, 1), fixed(t.selfPercent, 1), t.functionName, t.where]),
      [false, false, true, true],
    );
  }
  return profiles;
}

function verdict(ok) {
  return ok ? 'met' : 'NOT met';
}

// ---------------------------------------------------------------------------------------------
// Small helpers

async function abort(signal, exitCode) {
  if (aborting) return;
  aborting = true;
  console.error(`\nbench: ${signal}, stopping`);
  for (const child of running) killQuietly(child, 'SIGKILL');
  await nginxProxy?.stop();
  await nginx?.stop();
  process.exit(exitCode);
}

function med(rounds, pick) {
  return median(
    rounds.map((r) => {
      try {
        return pick(r);
      } catch {
        return null;
      }
    }),
  );
}

function signed(value, digits) {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? `+${fixed(value, digits)}` : fixed(value, digits);
}
