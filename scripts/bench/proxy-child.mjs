// One resil chaos proxy for proxy.mjs, in its own process (so its CPU is its own).
//
//   node proxy-child.mjs <upstream url> <variant> <max lifetime s>
//
// variant: 'plain'    pass-through, no faults (the fault layer is still consulted on every call)
//          'targeted' faults configured but targeted away ({ failureRate: 1, faults: 'status:503',
//                     matchPath: '/never/**' }), so the decision path runs on every call and never faults
//          'observed' pass-through, every call observed into a BehaviourObserver (--correlate auto), as
//                     in a chaos run
//          'observed-off' the same proxy with --correlate off: an observer attached, nothing observed
//
// Prints one JSON line { url } once listening; on SIGTERM/SIGINT closes the proxy, prints one JSON
// line { stats } and exits 0 (so --cpu-prof can write its profile). Exits by itself (code 2) after
// <max lifetime s>, in case the parent is gone.

import { startChaosProxy } from '../../dist/proxy/proxy.js';
import { BehaviourObserver } from '../../dist/behaviour/observer.js';

const [upstream, variant = 'plain', lifetimeText = '600'] = process.argv.slice(2);
if (!upstream) {
  console.error('usage: node proxy-child.mjs <upstream url> <plain|targeted> [max lifetime s]');
  process.exit(64);
}
const variants = {
  plain: {},
  targeted: { failureRate: 1, faults: 'status:503', matchPath: '/never/**' },
  observed: { correlate: 'auto' },
  'observed-off': { correlate: 'off' },
};
if (!(variant in variants)) {
  console.error(`proxy-child: unknown variant ${JSON.stringify(variant)}`);
  process.exit(64);
}

const observer = variant.startsWith('observed')
  ? new BehaviourObserver({ correlate: { mode: 'auto' }, longestRetryAfterMs: 1000 })
  : undefined;
const proxy = await startChaosProxy(
  { upstream, listen: '127.0.0.1:0', seed: 1, ...variants[variant] },
  observer && { observer, runId: '0123456789abcdef' },
);

const lifetime = setTimeout(() => {
  console.error(`proxy-child: still running after ${lifetimeText} s; exiting`);
  process.exit(2);
}, Number(lifetimeText) * 1000);
lifetime.unref();

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    if (closing) return;
    closing = true;
    const stats = proxy.stats();
    await Promise.race([proxy.close(), new Promise((resolve) => setTimeout(resolve, 3000))]);
    process.stdout.write(`${JSON.stringify({ stats })}\n`, () => process.exit(0));
  });
}

process.stdout.write(`${JSON.stringify({ url: proxy.url, variant })}\n`);
// The listener keeps the process alive until a signal arrives.
