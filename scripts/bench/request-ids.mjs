// What resil's request ids cost the load generator: gen-resil.mjs with and without X-Request-Id and
// traceparent on every request (BENCH_REQUEST_IDS=1, as chaos runs send them), alternately, at c=50
// against a local nginx, each run in its own process. Prints CPU µs per request of each run, the
// medians and their ratio. A benchmark, never a test.
//
//   npm run build && node scripts/bench/request-ids.mjs
//   BENCH_ROUNDS=8 BENCH_SECONDS=5 node scripts/bench/request-ids.mjs
//
// Loopback only; every child is bounded by a timeout.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx.mjs';
import { RESIL_NODE_FLAGS } from './node-flags.mjs';
import { fixed, median, positiveInt, runJsonChild } from './stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const rounds = positiveInt('BENCH_ROUNDS', 6);
const seconds = positiveInt('BENCH_SECONDS', 4); // each run, s
const running = new Set();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const nginx = await startNginx();
try {
  const cpu = { without: [], with: [] };
  for (let round = 1; round <= rounds; round++) {
    // Alternate which goes first, so a drift in the machine's load favours neither.
    const order = round % 2 === 1 ? ['without', 'with'] : ['with', 'without'];
    for (const variant of order) {
      const previous = process.env.BENCH_REQUEST_IDS;
      process.env.BENCH_REQUEST_IDS = variant === 'with' ? '1' : '0';
      const figures = await runJsonChild({
        args: [...RESIL_NODE_FLAGS, path.join(here, 'gen-resil.mjs'), nginx.url, '50', String(seconds)],
        cwd: here,
        running,
        timeoutMs: (seconds + 30) * 1000,
        name: `gen-resil (${variant} request ids)`,
      });
      process.env.BENCH_REQUEST_IDS = previous;
      const perRequest = figures.cpuUs / figures.requests;
      cpu[variant].push(perRequest);
      process.stderr.write(
        `round ${round}/${rounds}: ${variant.padEnd(7)} ids ${fixed(perRequest, 2)} µs/request, ${Math.round(figures.rps)} req/s\n`,
      );
    }
  }
  const [without, withIds] = [median(cpu.without), median(cpu.with)];
  console.log(`CPU per request, median of ${rounds} runs each: without ids ${fixed(without, 2)} µs, with ids ${fixed(withIds, 2)} µs`);
  console.log(`ratio with ÷ without: ${fixed(withIds / without, 3)}`);
} finally {
  await nginx.stop();
}
