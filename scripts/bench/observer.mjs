// Dependency-behaviour observer benchmark (#12): what observing costs per proxied call, and that its
// memory stays flat. Records 1,000,000 synthetic calls at 10,000 calls/s (100 s of run time): 95% of
// requests answered at once, 4% failed once (503, half with Retry-After: 1) and retried 50-150 ms
// later, 0.5% failed three times with doubling delays, 0.5% failed and never retried (these stay
// open for the 10 s retry window). Prints record()'s cost per call, callHeaders() and bodyKey()'s, the
// most requests held open, and the heap after a forced GC at 100,000 and at 1,000,000 calls.
//
//   npm run build && node --expose-gc scripts/bench/observer.mjs
import { bodyKey, callHeaders } from '../../dist/behaviour/key.js';
import { BehaviourObserver } from '../../dist/behaviour/observer.js';

const CALLS = 1_000_000;
const CHUNK = 100_000;
const SLOT_MS = 0.1; // a new request every 0.1 ms: 10,000 requests/s
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}

let state = 7;
const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
const call = (key, arrivedMs, status, more = {}) => ({
  provider: 'payments',
  method: 'GET',
  key,
  keySource: 'x-request-id',
  runRequest: true,
  idempotencyKey: false,
  arrivedMs,
  endedMs: arrivedMs + 2,
  status,
  fault: status === 200 ? undefined : `status:${status}`,
  retryAfterMs: undefined,
  clientGone: false,
  openAtEnd: false,
  reused: true,
  ...more,
});

// The calls in arrival order, CHUNK at a time; a request's later attempts wait in `pending` by slot.
const pending = new Map();
let slot = 0;
function later(atSlot, c) {
  const list = pending.get(atSlot);
  if (list) list.push(c);
  else pending.set(atSlot, [c]);
}
function nextChunk() {
  const calls = [];
  while (calls.length < CHUNK) {
    const t = slot * SLOT_MS;
    for (const c of pending.get(slot) ?? []) calls.push(c);
    pending.delete(slot);
    const key = `0f3c9a7e-run-${slot}`;
    const r = random();
    if (r < 0.95) calls.push(call(key, t, 200));
    else if (r < 0.99) {
      const retryAfterMs = random() < 0.5 ? 1000 : undefined;
      calls.push(call(key, t, 503, { retryAfterMs }));
      const delay = 50 + random() * 100;
      later(slot + Math.round((2 + delay) / SLOT_MS), call(key, t + 2 + delay, 200));
    } else if (r < 0.995) {
      calls.push(call(key, t, 503));
      let at = t;
      for (const [i, delay] of [100, 200, 400].entries()) {
        at += 2 + delay;
        later(slot + Math.round((at - t) / SLOT_MS), call(key, at, i === 2 ? 200 : 503));
      }
    } else calls.push(call(key, t, 503));
    slot++;
  }
  return calls;
}

const observer = new BehaviourObserver({ correlate: { mode: 'auto' }, longestRetryAfterMs: 1000 });
observer.addProvider('payments', [{ source: 'payments:status:503@20s-30s', startMs: 20_000, endMs: 30_000, down: false }]);
let recordNs = 0n;
let maxOpen = 0;
const heap = [];
gc();
const heapStart = process.memoryUsage().heapUsed;
for (let done = 0; done < CALLS; done += CHUNK) {
  const calls = nextChunk();
  const start = process.hrtime.bigint();
  for (const c of calls) observer.record(c);
  recordNs += process.hrtime.bigint() - start;
  maxOpen = Math.max(maxOpen, observer.openRequests);
  gc();
  heap.push(process.memoryUsage().heapUsed);
}
const document = observer.document(slot * SLOT_MS);

// Header keys: a typical service's dependency call (8 headers, X-Request-Id among them), then one
// that only has a traceparent, then none that gives a key.
const withId = [
  'Host',
  'api.example',
  'User-Agent',
  'svc/1.0',
  'Accept',
  'application/json',
  'Content-Type',
  'application/json',
  'Authorization',
  'Bearer x',
  'X-Request-Id',
  '0f3c9a7e-run-1',
  'Connection',
  'keep-alive',
  'Content-Length',
  '42',
];
const withTrace = withId.slice(0, 10).concat(['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']);
const without = withId.slice(0, 10);
const body = Buffer.from('{"amount":1250,"currency":"EUR","to":{"iban":"DE00123","name":"A"},"reference":"inv-2042"}');
function perCall(fn, n = 200_000) {
  for (let i = 0; i < 10_000; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - start) / n / 1000;
}
const auto = { mode: 'auto' };
const us = (n) => `${n.toFixed(3)} µs`;
console.log(
  `calls recorded:           ${document.correlation.calls.toLocaleString('en-US')} (${document.overall.requests.toLocaleString('en-US')} requests, ${document.overall.retries.toLocaleString('en-US')} retries)`,
);
console.log(`record():                 ${us(Number(recordNs) / CALLS / 1000)} per call`);
console.log(`callHeaders() X-Request-Id: ${us(perCall(() => callHeaders(withId, auto)))}`);
console.log(`callHeaders() traceparent:  ${us(perCall(() => callHeaders(withTrace, auto)))}`);
console.log(`callHeaders() no key:       ${us(perCall(() => callHeaders(without, auto)))}`);
console.log(`bodyKey() 90-byte JSON:   ${us(perCall(() => bodyKey('POST', '/v1/transfers', body)))}`);
console.log(`requests held open:       at most ${maxOpen.toLocaleString('en-US')}`);
const mb = (bytes) => `${(bytes / 1048576).toFixed(2)} MB`;
console.log(`heap after forced GC:     start ${mb(heapStart)}, 100,000 calls ${mb(heap[0])}, 1,000,000 calls ${mb(heap.at(-1))}`);
console.log(`heap growth 100k → 1M:    ${mb(heap.at(-1) - heap[0])}`);
