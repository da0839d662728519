// Memory benchmark: resil's RSS must not grow with the number of requests.
// Runs one closed-model campaign of BENCH_MEMORY_REQUESTS (default 1,000,000) against a local nginx
// and samples RSS once a second; prints RSS when the run passes 100,000 requests and at the end.
//
//   npm run build && node scripts/bench/memory.mjs
import { runLoad } from '../../dist/index.js';
import { startNginx } from './nginx.mjs';

const total = Number(process.env.BENCH_MEMORY_REQUESTS ?? 1_000_000);
const checkpoint = Math.round(total / 10);
const nginx = await startNginx();
try {
  let atCheckpoint;
  const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);
  const result = await runLoad(
    { url: nginx.url, concurrency: 50, requests: total },
    {
      onProgress: ({ total: done }) => {
        if (atCheckpoint === undefined && done >= checkpoint) atCheckpoint = { done, rss: process.memoryUsage().rss };
      },
    },
  );
  const end = process.memoryUsage().rss;
  // result.errors: error kind → count (an empty object when nothing failed).
  const errorKinds = Object.keys(result.errors).length;
  console.log(
    `requests: ${result.requests.total.toLocaleString('en-US')} (${Math.round(result.rps)} req/s, ` +
      `${result.requests.failed} failed, ${errorKinds} error kinds)`,
  );
  // onProgress ticks once a second; a run shorter than that never reaches the checkpoint sample.
  if (atCheckpoint === undefined) throw new Error(`no RSS sample at ${checkpoint} requests: the run was too short`);
  console.log(`RSS at ${atCheckpoint.done.toLocaleString('en-US')} requests: ${mib(atCheckpoint.rss)} MiB`);
  console.log(`RSS at ${result.requests.total.toLocaleString('en-US')} requests: ${mib(end)} MiB`);
  console.log(`growth: ${(((end - atCheckpoint.rss) / atCheckpoint.rss) * 100).toFixed(1)}% (goal: within 15%)`);
} finally {
  await nginx.stop();
}
