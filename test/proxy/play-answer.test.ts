import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { playAnswer, type TimedAnswer } from '../../src/proxy/replay.js';

// A timed answer (a replayed stream, a preset's stream) is played chunk after chunk. Node does not keep
// timers of different lengths in order when its event loop runs late, so the player must not depend on
// it: here a scheduler that fires whatever is pending in the worst order (the longest first) stands in
// for a late event loop, and the body must still arrive whole and in order.

const events = ['data: one\n\n', 'data: two\n\n', 'data: three\n\n', 'data: [DONE]\n\n'];
const answer: TimedAnswer = {
  status: 200,
  headers: ['content-type', 'text/event-stream'],
  body: Buffer.from(events.join('')),
  chunks: events.map((event, i) => ({ atMs: 10 * (i + 1), bytes: Buffer.byteLength(event) })),
  waitMs: 0,
};

/** Holds each timer until the next macrotask, then fires everything pending, the longest delay first. */
function lateLoop(): (ms: number, fn: () => void) => void {
  let pending: Array<{ ms: number; fn: () => void }> = [];
  return (ms, fn) => {
    if (pending.length === 0) {
      setTimeout(() => {
        const due = pending.sort((a, b) => b.ms - a.ms);
        pending = [];
        for (const timer of due) timer.fn();
      }, 5);
    }
    pending.push({ ms, fn });
  };
}

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((_request, response) => playAnswer(response, answer, lateLoop()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('a timed answer arrives whole and in order even when its timers fire out of order', async () => {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(await response.text()).toBe(events.join(''));
});
