// Open-model timing benchmark: how much of the latency "from schedule" is the tool's own timer error.
//
// Against an idle local nginx (nginx.mjs), resil runs the open model at each rate of BENCH_RATES
// (default 200,1000) for BENCH_SECONDS (default 3), BENCH_ROUNDS times (default 3), each run in a
// fresh `node` child (gen-schedule.mjs). nginx answers in about 0.1-0.3 ms, so any gap between the
// p50 from schedule and the p50 of the service time is the time between a request being due and
// being sent. Also prints CPU µs per request (user+sys of the child). Saves bench-results/schedule.json.
//
//   npm run build && node scripts/bench/schedule.mjs
//
// A benchmark, never a test: it prints medians and never fails on absolute times.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx.mjs';
import { RESIL_NODE_FLAGS } from './node-flags.mjs';
import { fixed, guardChildren, killQuietly, median, positiveInt, runJsonChild } from './stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const settings = {
  rates: (process.env.BENCH_RATES ?? '200,1000').split(',').map(Number),
  seconds: positiveInt('BENCH_SECONDS', 3),
  rounds: positiveInt('BENCH_ROUNDS', 3),
};
const childTimeoutMs = (3 * settings.seconds + 30) * 1000; // hard limit per child, ms

const running = new Set();
let nginx = null;
guardChildren(running, (_signal, code) => stop(code));

try {
  nginx = await startNginx();
  console.log(
    `node ${process.version}, ${nginx.version}, ${os.cpus().length} CPUs; ${settings.rounds} rounds × ${settings.seconds} s per rate`,
  );
  const results = {};
  for (const rate of settings.rates) {
    const rounds = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const figures = await runChild(nginx.url, rate);
      figures.cpuUsPerRequest = figures.cpuUs / figures.requests;
      rounds.push(figures);
      console.log(
        `${rate}/s round ${round}: p50 from schedule ${fixed(figures.p50Ms, 3)} ms, service time ${fixed(figures.serviceP50Ms, 3)} ms, ` +
          `gap ${fixed(figures.p50Ms - figures.serviceP50Ms, 3)} ms, ${figures.lateStarts} late starts, ` +
          `${figures.peakConnections ?? '-'} connections, CPU ${fixed(figures.cpuUsPerRequest, 1)} µs/request`,
      );
    }
    const m = (key) => median(rounds.map((r) => r[key]));
    results[rate] = {
      rounds,
      median: {
        p50Ms: m('p50Ms'),
        serviceP50Ms: m('serviceP50Ms'),
        gapMs: median(rounds.map((r) => r.p50Ms - r.serviceP50Ms)),
        cpuUsPerRequest: m('cpuUsPerRequest'),
        lateStarts: m('lateStarts'),
      },
    };
    const s = results[rate].median;
    console.log(
      `${rate}/s median: p50 from schedule ${fixed(s.p50Ms, 3)} ms, service time ${fixed(s.serviceP50Ms, 3)} ms, ` +
        `gap ${fixed(s.gapMs, 3)} ms, CPU ${fixed(s.cpuUsPerRequest, 1)} µs/request\n`,
    );
  }
  const outDir = path.join(repoRoot, 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, 'schedule.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, nginx: nginx.version, settings, results }, null, 2)}\n`,
  );
} catch (error) {
  console.error(`bench: ${error?.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await nginx?.stop();
}

async function stop(code) {
  for (const child of running) killQuietly(child, 'SIGKILL');
  await nginx?.stop();
  process.exit(code);
}

function runChild(url, rate) {
  const args = [...RESIL_NODE_FLAGS, path.join(here, 'gen-schedule.mjs'), url, String(rate), String(settings.seconds)];
  return runJsonChild({ args, cwd: repoRoot, running, timeoutMs: childTimeoutMs, name: 'gen-schedule' });
}
