import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { UpstreamAnswer } from '../../src/faults/fault.js';
import { type CallHost, HttpCall } from '../../src/proxy/http-call.js';
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

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => new HttpCall(host, request, response, 'stall:0ms').send(answer, {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('late timers delay each chunk by their lateness, not by the sum of all lateness before it', async () => {
  const outcome = await postForEvents(url, {});
  expect(outcome.events.map((e) => e.data)).toEqual(text.map((_, i) => String(i)));
  // The last event is due at 240 ms; its own timer is 15 ms late. Drifting, it came at 240 + 12 × 15 = 420 ms.
  // Tolerance: 5 ms early, 40 ms late (plus what other processes took of the CPU).
  const last = outcome.events.at(-1)!.atMs;
  expect(last).toBeGreaterThanOrEqual(EVENTS * GAP_MS - 5);
  expect(last).toBeLessThanOrEqual(EVENTS * GAP_MS + LATE_BY_MS + 40 + outcome.waitedMs);
});
