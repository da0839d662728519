// All benchmarks in sequence, each in its own `node` child with our stdio: run.mjs (load
// generators), then memory.mjs (RSS growth), then proxy.mjs (resil's chaos proxy vs nginx as a
// reverse proxy), proxy-memory.mjs (an observing proxy's RSS over 1,000,000 calls),
// request-ids.mjs (what chaos runs' request ids cost the load generator), streams.mjs (what
// measuring server-sent-event streams costs it), workers.mjs, merge.mjs, schedule.mjs (the open
// model's timing) and tcp.mjs (the TCP proxy against nginx's stream proxy and socat). Stops at the
// first one that fails and exits with its code.
//
//   npm run bench   (builds dist/ first)
import { RESIL_NODE_FLAGS } from './node-flags.mjs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let current = null; // the running child

// Pass SIGINT/SIGTERM on to the child (it stops its nginx and exits), then exit with its code.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) current.kill(signal);
    else process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });
}

for (const script of [
  'run.mjs',
  'memory.mjs',
  'proxy.mjs',
  'proxy-memory.mjs',
  'request-ids.mjs',
  'streams.mjs',
  'workers.mjs',
  'merge.mjs',
  'schedule.mjs',
  'tcp.mjs',
]) {
  console.log(`\n=== ${script}\n`);
  // memory.mjs measures resil's own process, so it runs with the flags the CLI uses.
  const flags = script === 'memory.mjs' ? RESIL_NODE_FLAGS : [];
  current = spawn(process.execPath, [...flags, path.join(here, script)], { stdio: 'inherit' });
  const [code, signal] = await new Promise((resolve) => {
    current.on('error', (error) => resolve([null, error.message]));
    current.on('exit', (code, signal) => resolve([code, signal]));
  });
  current = null;
  if (code !== 0) {
    console.error(`bench: ${script} failed (${signal ?? `exit ${code}`})`);
    process.exit(code || 1);
  }
}
