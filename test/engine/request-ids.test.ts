import { UsageError } from '../../src/errors.js';
import { buildLoadPlan } from '../../src/engine/plan.js';
import { hex16, newRunId } from '../../src/engine/request-ids.js';
import { runLoad } from '../../src/session/load.js';
import { startRecordingServer, type SeenRequest } from '../helpers/proxy.js';
import type { TestServer } from '../helpers/servers.js';

// Chaos runs send X-Request-Id and a W3C traceparent with every logical request, so a chaos proxy can
// correlate the service's dependency calls when the service propagates them. Real sockets.

const RUN_ID = 'fedcba9876543210';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-00$/;

/** Every value of a header among the request's raw headers (a header sent twice shows twice). */
function values(seen: SeenRequest, name: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < seen.rawHeaders.length; i += 2) if (seen.rawHeaders[i]!.toLowerCase() === name) found.push(seen.rawHeaders[i + 1]!);
  return found;
}

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});
async function recording(status: (seen: SeenRequest) => number = () => 200) {
  const server = await startRecordingServer((seen, res) => res.writeHead(status(seen)).end('{}'));
  servers.push(server);
  return server;
}

describe('request ids', () => {
  test('sequences are 16 hex digits without a number-to-string conversion; run ids are 16 random hex digits', () => {
    expect([0, 1, 255, 2 ** 32, 2 ** 40 + 7, 2 ** 53 - 1].map(hex16)).toEqual([
      '0000000000000000',
      '0000000000000001',
      '00000000000000ff',
      '0000000100000000',
      '0000010000000007',
      '001fffffffffffff',
    ]);
    const ids = new Set(Array.from({ length: 20 }, newRunId));
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });

  // Over worker threads: test/behaviour-cli.test.ts (threads run the built code).
  test('each request carries its own X-Request-Id and traceparent', async () => {
    const server = await recording();
    await runLoad({ url: `${server.url}/`, requests: 12, concurrency: 4, requestIds: { runId: RUN_ID } });
    expect(server.requests).toHaveLength(12);
    const ids = server.requests.map((seen) => values(seen, 'x-request-id'));
    expect(ids.every((one) => one.length === 1)).toBe(true);
    // Requests 0..11: sequences 1..12.
    expect(ids.map(([id]) => id!).sort()).toEqual(Array.from({ length: 12 }, (_, n) => RUN_ID + hex16(n + 1)));
    for (const seen of server.requests) {
      const [traceparent] = values(seen, 'traceparent');
      const [, traceId, spanId] = TRACEPARENT.exec(traceparent!)!;
      expect(traceId).toBe(values(seen, 'x-request-id')[0]);
      expect(spanId).toBe(traceId!.slice(16));
    }
  });

  test("policy mode: a request's retries and its failover carry its ids; the next request has its own", async () => {
    const primary = await recording(() => 503);
    const secondary = await recording(() => 503);
    await runLoad({
      url: `${primary.url}/`,
      failover: [`${secondary.url}/`],
      requests: 2,
      concurrency: 1,
      policy: { retries: 2, backoff: 'fixed:1ms' },
      thresholds: ['success_rate>=0'],
      requestIds: { runId: RUN_ID, base: 2 ** 40 },
    });
    const idsAt = (server: typeof primary) => server.requests.map((seen) => values(seen, 'x-request-id')[0]);
    const first = RUN_ID + hex16(2 ** 40 + 1);
    const second = RUN_ID + hex16(2 ** 40 + 2);
    // 3 attempts at each provider per request, one request after the other.
    expect(idsAt(primary)).toEqual([first, first, first, second, second, second]);
    expect(idsAt(secondary)).toEqual([first, first, first, second, second, second]);
  });

  test("the user's own X-Request-Id wins (one header, theirs); without request ids nothing is added", async () => {
    const server = await recording();
    await runLoad({ url: `${server.url}/`, requests: 2, concurrency: 1, headers: ['X-Request-Id: mine'], requestIds: { runId: RUN_ID } });
    await runLoad({ url: `${server.url}/`, requests: 1, concurrency: 1 });
    const [a, b, plain] = server.requests;
    expect([values(a!, 'x-request-id'), values(b!, 'x-request-id')]).toEqual([['mine'], ['mine']]);
    expect(values(a!, 'traceparent')).toEqual([`00-${RUN_ID}${hex16(1)}-${hex16(1)}-00`]);
    expect([values(plain!, 'x-request-id'), values(plain!, 'traceparent')]).toEqual([[], []]);
  });

  test('a run id that is not 16 lower-case hex digits is refused', () => {
    expect(() => buildLoadPlan({ url: 'http://127.0.0.1:1/', requestIds: { runId: 'ABC' } })).toThrow(UsageError);
    expect(() => buildLoadPlan({ url: 'http://127.0.0.1:1/', requestIds: { runId: RUN_ID, base: -1 } })).toThrow(
      "requestIds.base '-1' must be a whole number below 2^52",
    );
  });
});
