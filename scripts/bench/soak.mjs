// Soak of the chaos proxy: RSS and open descriptors of a proxy process (soak-proxy-child.mjs, run as
// `resil proxy` runs it) over BENCH_SOAK_CALLS proxied calls (default 10,000,000), a fifth of them
// faulted, with a kill switch in the middle: POST /halt at 50% of the calls, POST /resume at 60%.
// resil's load engine drives it from this process. Prints RSS and fds at the start, at each tenth,
// and at the end, the calls per second, and the proxy's counts (injected, withheld while halted).
//
//   npm run bench:soak                       (10,000,000 calls)
//   BENCH_SOAK_CALLS=1000000 npm run bench:soak
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { runLoad } from '../../dist/index.js';
import { RESIL_NODE_FLAGS } from './node-flags.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const calls = Number(process.env.BENCH_SOAK_CALLS ?? 10_000_000);
const child = spawn(process.execPath, [...RESIL_NODE_FLAGS, path.join(here, 'soak-proxy-child.mjs')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const killTimer = setTimeout(() => child.kill('SIGKILL'), 3 * 60 * 60 * 1000); // bound: 3 hours at most
const { url, admin } = await new Promise((resolve, reject) => {
  child.stdout.once('data', (chunk) => resolve(JSON.parse(chunk.toString())));
  child.once('exit', (code) => reject(new Error(`proxy child exited (${code})`)));
});
const fds = () => readdirSync(`/proc/${child.pid}/fd`).length;
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
const post = async (route) => JSON.parse(await (await request(`${admin}${route}`, { method: 'POST' })).body.text());
const n = (v) => v.toLocaleString('en-US');

try {
  const samples = [{ total: 0, rss: rssMb(), fds: fds(), ms: 0 }];
  let halted = false;
  let resumed = false;
  const started = performance.now();
  const result = await runLoad(
    { url: `${url}/v1/complete`, requests: calls, concurrency: 64, timeout: '2s' },
    {
      onProgress: ({ total }) => {
        const last = samples.at(-1);
        if (total >= (Math.floor((last.total * 10) / calls) + 1) * (calls / 10))
          samples.push({ total, rss: rssMb(), fds: fds(), ms: performance.now() - started });
        if (!halted && total >= calls / 2) {
          halted = true;
          void post('/halt').then((g) => console.log(`POST /halt at ${n(total)} calls: halted=${g.halted}`));
        } else if (halted && !resumed && total >= calls * 0.6) {
          resumed = true;
          void post('/resume').then((g) => console.log(`POST /resume at ${n(total)} calls: halted=${g.halted}`));
        }
      },
    },
  );
  const seconds = (performance.now() - started) / 1000;
  samples.push({ total: result.requests.total, rss: rssMb(), fds: fds(), ms: seconds * 1000 });
  const stats = JSON.parse(await (await request(`${admin}/stats`)).body.text());
  const sum = (o) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
  console.log(`calls: ${n(result.requests.total)} in ${seconds.toFixed(0)} s (${n(Math.round(result.requests.total / seconds))} calls/s)`);
  console.log(`proxy: ${n(stats.calls)} calls · injected ${n(sum(stats.injected))} · withheld ${n(sum(stats.withheld))} (while halted)`);
  console.log('proxy process:   calls         RSS      fds');
  for (const s of samples) console.log(`  ${n(s.total).padStart(14)}  ${s.rss.toFixed(1).padStart(7)} MB  ${String(s.fds).padStart(5)}`);
} finally {
  clearTimeout(killTimer);
  child.kill('SIGTERM');
}
