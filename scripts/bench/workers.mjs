// Worker-thread scaling: resil with --workers 1 and --workers 2 at c=50 against a local nginx,
// alternately, each in its own child process; prints the medians and the ratio of requests per
// second (2 workers / 1 worker). On 2 cores nginx and the generator share the machine, so the
// ratio shows what a second thread buys when the generator, not the target, is the limit.
//
//   npm run build && node scripts/bench/workers.mjs   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONCURRENCY)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx.mjs';
import { RESIL_NODE_FLAGS } from './node-flags.mjs';
import { fixed, median, positiveInt } from './stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const rounds = positiveInt('BENCH_ROUNDS', 3);
const seconds = positiveInt('BENCH_SECONDS', 5);
const concurrency = positiveInt('BENCH_CONCURRENCY', 50);

function generate(url, workers) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...RESIL_NODE_FLAGS, path.join(here, 'gen-resil.mjs'), url, String(concurrency), String(seconds), String(workers)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), (3 * seconds + 30) * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out));
      else reject(new Error(`generator with ${workers} worker(s) exited ${code}`));
    });
  });
}

const nginx = await startNginx();
try {
  const results = { 1: [], 2: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const workers of round % 2 ? [1, 2] : [2, 1]) {
      const r = await generate(nginx.url, workers);
      results[workers].push(r);
      console.log(
        `round ${round}/${rounds}: ${workers} worker(s)... ${Math.round(r.rps)} req/s, ${fixed(r.cpuUs / r.requests, 2)} µs CPU/req`,
      );
    }
  }
  const rps1 = median(results[1].map((r) => r.rps));
  const rps2 = median(results[2].map((r) => r.rps));
  console.log(`median req/s: 1 worker ${Math.round(rps1)}, 2 workers ${Math.round(rps2)}; ratio 2/1: ${fixed(rps2 / rps1, 3)}`);
} finally {
  await nginx.stop();
}
