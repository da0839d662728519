import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { UpstreamAnswer } from '../../src/faults/fault.js';
import { type CallHost, HttpCall } from '../../src/proxy/http-call.js';
import { slowBodyFault } from '../../src/faults/slow-body.js';
import { cpuWait } from '../helpers/machine.js';
import { postForEvents } from '../helpers/sse.js';

// A faulted call's answer (HttpCall.send) is paced from its start, as playAnswer is: when the event
// loop runs late, each chunk is late by that much, and no later. Paced from the previous chunk, each
// timer's lateness added up, and a faulted stream drifted later and later behind a healthy one. A host
// whose timers all fire LATE_BY_MS late stands in for a busy event loop.

const LATE_BY_MS = 15;
const EVENTS = 12;
const GAP_MS = 20;

const text = Array.from({ length: EVENTS }, (_, i) => `data: ${i}\n\n`);
const answer: UpstreamAnswer = {
  status: 200,
  headers: ['content-type', 'text/event-stream'],
  body: Buffer.from(text.join('')),
  chunks: text.map((event, i) => ({ atMs: GAP_MS * (i + 1), bytes: Buffer.byteLength(event) })),
};

const host: CallHost = {
  random: () => 0,
  later: (ms, fn) => void setTimeout(fn, ms + LATE_BY_MS),
  passThrough: () => {},
  fetchUpstream: () => Promise.reject(new Error('not used')),
  retryAfterSeconds: () => 1,
  api: () => undefined,
  notApplicable: () => {},
};

// A live upstream's answer in two chunks of 2,000 bytes, under slow-body:4000 (pieces of 200 bytes, 50 ms apart).
const twoChunks: UpstreamAnswer = {
  status: 200,
  headers: ['content-type', 'application/json'],
  body: Buffer.alloc(4000, 0x61),
  chunks: [
    { atMs: 0, bytes: 2000 },
    { atMs: 1, bytes: 2000 },
  ],
};
let SLOW = {};
// A replayed answer of 5,000 one-byte chunks, all due at once (--replay-timing none).
const manyChunks: UpstreamAnswer = {
  status: 200,
  headers: ['content-type', 'text/plain'],
  body: Buffer.alloc(5000, 0x62),
  chunks: Array.from({ length: 5000 }, () => ({ atMs: 0, bytes: 1 })),
};

/** GETs `path`, timing the first body byte and the end (ms after the request). */
function timedGet(path: string): Promise<{ firstMs: number; endMs: number; bytes: number; waitedMs: number }> {
  const waited = cpuWait();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    get(`${url}${path.slice(1)}`, (response) => {
      let firstMs = -1;
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        if (firstMs < 0) firstMs = performance.now() - started;
        bytes += chunk.length;
      });
      response.on('end', () => resolve({ firstMs, endMs: performance.now() - started, bytes, waitedMs: waited() }));
    })
      .on('error', reject)
      .setTimeout(3000, function (this: { destroy(error: Error): void }) {
        this.destroy(new Error('no whole answer within 3 s'));
      });
  });
}

let server: Server;
let url: string;

beforeAll(async () => {
  const fault = slowBodyFault.create('4000');
  fault.inject({ pass: (shape: object) => void (SLOW = shape) } as never);
  server = createServer((request, response) => {
    const call = new HttpCall(host, request, response, 'test');
    if (request.url === '/slow') call.send(twoChunks, SLOW);
    else if (request.url === '/many') call.send(manyChunks, {});
    else call.send(answer, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

test('late timers delay each chunk by their lateness, not by the sum of all lateness before it', async () => {
  const outcome = await postForEvents(url, {});
  expect(outcome.events.map((e) => e.data)).toEqual(text.map((_, i) => String(i)));
  // The last event is due at 240 ms; its own timer is 15 ms late. Drifting, it came at 240 + 12 × 15 = 420 ms.
  // Tolerance: 5 ms early, 40 ms late (plus what other processes took of the CPU).
  const last = outcome.events.at(-1)!.atMs;
  expect(last).toBeGreaterThanOrEqual(EVENTS * GAP_MS - 5);
  expect(last).toBeLessThanOrEqual(EVENTS * GAP_MS + LATE_BY_MS + 40 + outcome.waitedMs);
});

test('slow-body trickles a chunked answer in pieces, as it does a whole one (the first bytes after one piece, not one chunk)', async () => {
  const { firstMs, endMs, bytes, waitedMs } = await timedGet('/slow');
  expect(bytes).toBe(4000);
  // The first 200-byte piece is due at 50 ms (+15 ms late); sent by chunks, the first came after 2,000 bytes' time: 500 ms.
  expect(firstMs).toBeLessThan(250 + waitedMs);
  // 4,000 bytes at 4,000 B/s: a second, 5 ms early at most.
  expect(endMs).toBeGreaterThanOrEqual(995);
});

test('5,000 chunks all due at once go out in one loop: no stack overflow, no timer each', async () => {
  const { bytes, endMs, waitedMs } = await timedGet('/many');
  expect(bytes).toBe(5000);
  // A timer a chunk cost about 1 ms each (5 s); recursing, the stack overflowed near 4,000 chunks.
  expect(endMs).toBeLessThan(500 + waitedMs);
});
