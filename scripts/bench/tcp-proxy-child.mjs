// One resil TCP proxy for tcp.mjs, in its own process (so its CPU is its own): startChaosProxy with a
// tcp:// upstream, no faults.
//
//   node tcp-proxy-child.mjs <upstream port> <max lifetime s>
//
// Prints one JSON line { port } once listening, or { error } and exits 3 when resil cannot proxy TCP;
// on SIGTERM/SIGINT closes the proxy and exits 0 (so --cpu-prof can write its profile). Exits by
// itself (code 2) after <max lifetime s>, in case the parent is gone.

import { startChaosProxy } from '../../dist/proxy/proxy.js';

const [portText, lifetimeText = '600'] = process.argv.slice(2);
let proxy;
try {
  proxy = await startChaosProxy({ upstream: `tcp://127.0.0.1:${portText}`, listen: '127.0.0.1:0', seed: 1 });
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: error.message })}\n`, () => process.exit(3));
}
if (proxy) {
  const lifetime = setTimeout(() => process.exit(2), Number(lifetimeText) * 1000);
  lifetime.unref();
  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, async () => {
      if (closing) return;
      closing = true;
      await Promise.race([proxy.close(), new Promise((resolve) => setTimeout(resolve, 3000))]);
      process.exit(0);
    });
  }
  process.stdout.write(`${JSON.stringify({ port: proxy.port })}\n`);
}
