// Long-run check of the chaos proxy: its open file descriptors stay flat across 100,000 faulted
// calls. The proxy runs in its own process (a mock upstream, half the calls faulted with a mix of
// reset, close, truncate, timeout, 503 and malformed); resil's load engine drives it from this
// process; the proxy's descriptors are counted from /proc/<pid>/fd at 10,000 calls, at the end,
// and once the clients have gone.
//
//   npm run build && node scripts/bench/proxy-fds.mjs        (BENCH_FD_CALLS, default 100000)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad } from '../../dist/index.js';
import { RESIL_NODE_FLAGS } from './node-flags.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const calls = Number(process.env.BENCH_FD_CALLS ?? 100_000);
const FAULTS = 'status:503=2,reset=1,close=1,truncate=1,timeout=1,malformed=1';

const child = spawn(process.execPath, [...RESIL_NODE_FLAGS, path.join(here, 'faulted-proxy-child.mjs'), FAULTS], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const killTimer = setTimeout(() => child.kill('SIGKILL'), 15 * 60 * 1000); // bound: 15 minutes at most
const url = await new Promise((resolve, reject) => {
  child.stdout.once('data', (chunk) => resolve(JSON.parse(chunk.toString()).url));
  child.once('exit', (code) => reject(new Error(`proxy child exited (${code})`)));
});
const fds = () => readdirSync(`/proc/${child.pid}/fd`).length;
try {
  const baseline = fds();
  let atCheckpoint;
  const result = await runLoad(
    // The timeout fault holds calls until the client gives up: 200 ms here.
    { url: `${url}/v1/complete`, requests: calls, concurrency: 32, timeout: '200ms' },
    {
      onProgress: ({ total }) => {
        if (atCheckpoint === undefined && total >= calls / 10) atCheckpoint = { total, fds: fds() };
      },
    },
  );
  const atEnd = fds();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const afterClients = fds();
  const failed = Object.entries(result.errors)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  console.log(
    `proxy calls: ${result.requests.total.toLocaleString('en-US')} (${result.requests.failed.toLocaleString('en-US')} faulted: ${failed})`,
  );
  console.log(
    `proxy open fds: ${baseline} idle before, ` +
      `${atCheckpoint?.fds ?? '-'} at ${atCheckpoint?.total?.toLocaleString('en-US') ?? '-'} calls, ` +
      `${atEnd} at ${result.requests.total.toLocaleString('en-US')} calls, ${afterClients} after the clients closed`,
  );
} finally {
  clearTimeout(killTimer);
  child.kill('SIGTERM');
}
