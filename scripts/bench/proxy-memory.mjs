// Memory of an observing chaos proxy: its RSS must not grow with the number of calls it observes.
//
//   npm run build && node scripts/bench/proxy-memory.mjs
//   BENCH_PROXY_MEMORY_CALLS=200000 node scripts/bench/proxy-memory.mjs
//
// For each variant of proxy-child.mjs in turn ('plain': not observed; 'observed-faulted': every call
// observed as in a chaos run, 10% answered 503 so their requests stay open for the retry window), a
// node child proxies to a local nginx while wrk (-t1 -c50, 5 s at a time) sends calls that each carry
// a unique X-Request-Id (a Lua script), the way a service propagating resil's ids would. After each
// 5 s the child's RSS is read from /proc; the figures printed are RSS once 10% of the calls are
// done and at the end, and the growth between them (goal: within 15%, as memory.mjs for the load
// generator). A benchmark, never a test: it prints and never fails on a figure.
//
// Loopback only; every child is killed at the end, and the run stops after 10 minutes whatever the count.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx.mjs';
import { RESIL_NODE_FLAGS } from './node-flags.mjs';
import { killQuietly, positiveInt } from './stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const total = positiveInt('BENCH_PROXY_MEMORY_CALLS', 1_000_000);
const chunkSeconds = 5; // one wrk run, s
const deadlineMs = 10 * 60_000; // the whole benchmark, ms
const variants = ['plain', 'observed-faulted'];
const running = new Set();

const lua = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'resil-bench-ids-')), 'ids.lua');
// A unique X-Request-Id per call: 8 hex of the wrk run, 24 hex of a counter.
fs.writeFileSync(
  lua,
  [
    'local n = 0',
    'local run = string.format("%08x", math.random(0, 0x7fffffff))',
    'request = function()',
    '  n = n + 1',
    '  return wrk.format(nil, nil, { ["X-Request-Id"] = run .. string.format("%024x", n) })',
    'end',
  ].join('\n'),
);

process.on('exit', () => {
  for (const child of running) killQuietly(child, 'SIGKILL');
});

const nginx = await startNginx();
const started = Date.now();
try {
  console.log(`node ${process.version}, ${os.cpus().length} CPUs; ${total.toLocaleString('en-US')} calls per variant`);
  for (const variant of variants) {
    const child = await startChild(variant, nginx.url);
    let done = 0;
    let atTenth;
    while (done < total && Date.now() - started < deadlineMs) {
      done += wrkCalls(child.url);
      const rss = rssOf(child.pid);
      if (atTenth === undefined && done >= total / 10) atTenth = { done, rss };
      process.stderr.write(`${variant}: ${done.toLocaleString('en-US')} calls, RSS ${mib(rss)} MiB\n`);
    }
    const end = { done, rss: rssOf(child.pid) };
    const stats = await child.stop();
    const growth = atTenth ? `${(((end.rss - atTenth.rss) / atTenth.rss) * 100).toFixed(1)}%` : 'n/a';
    console.log(
      `${variant.padEnd(17)} RSS at ${atTenth?.done.toLocaleString('en-US') ?? '-'} calls: ${atTenth ? mib(atTenth.rss) : '-'} MiB; ` +
        `at ${end.done.toLocaleString('en-US')}: ${mib(end.rss)} MiB; growth ${growth} (goal: within 15%); ` +
        `proxy counted ${stats.calls.toLocaleString('en-US')} calls`,
    );
  }
} finally {
  for (const child of running) killQuietly(child, 'SIGKILL');
  await nginx.stop();
}

function mib(bytes) {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** Resident set size of a process, bytes (VmRSS of /proc/PID/status). */
function rssOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]) * 1024;
}

/** One wrk run of chunkSeconds through the proxy; the calls it completed. */
function wrkCalls(url) {
  const result = spawnSync('wrk', ['-t1', '-c50', `-d${chunkSeconds}s`, '-s', lua, url], {
    encoding: 'utf8',
    timeout: (chunkSeconds + 20) * 1000,
  });
  const match = /^\s*(\d+) requests in/m.exec(result.stdout ?? '');
  if (result.status !== 0 || !match)
    throw new Error(`wrk failed (is it installed? apt-get install -y wrk): ${result.stderr}${result.stdout}`);
  return Number(match[1]);
}

/** A proxy-child.mjs of this variant in front of `upstream`: its url, pid, and stop() → its stats. */
async function startChild(variant, upstream) {
  const child = spawn(process.execPath, [...RESIL_NODE_FLAGS, path.join(here, 'proxy-child.mjs'), upstream, variant, '700'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  const lines = readline.createInterface({ input: child.stdout });
  const next = () => new Promise((resolve) => lines.once('line', (line) => resolve(JSON.parse(line))));
  const { url } = await next();
  return {
    url,
    pid: child.pid,
    async stop() {
      const last = next();
      child.kill('SIGTERM');
      const { stats } = await last;
      running.delete(child);
      return stats;
    },
  };
}
