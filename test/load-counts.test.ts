import { runLoad } from '../src/session/load.js';
import { cpuWait } from './helpers/machine.js';
import { startServer, type TestServer } from './helpers/servers.js';

// Counts must be exact against what the server saw.
describe('request counts', () => {
  let server: TestServer;
  const paths: string[] = [];
  const bodies: string[] = [];
  beforeAll(async () => {
    server = await startServer((req, res) => {
      paths.push(req.url!);
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        if (body !== '') bodies.push(body);
        res.end('ok');
      });
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    paths.length = 0;
    bodies.length = 0;
  });

  test('closed model with -n sends exactly n requests', async () => {
    const before = server.seen;
    const result = await runLoad({ url: server.url, concurrency: 7, requests: 1003 });
    expect(result.requests).toEqual({ total: 1003, ok: 1003, failed: 0, cancelled: 0, dropped: 0 });
    expect(server.seen - before).toBe(1003);
    expect(result.statusCodes).toEqual({ '200': 1003 });
  });

  test('closed model with -d: total plus cancelled equals what the server saw', async () => {
    const before = server.seen;
    const waited = cpuWait();
    const result = await runLoad({ url: server.url, concurrency: 5, duration: '400ms' });
    expect(result.requests.total).toBeGreaterThan(0);
    expect(result.requests.total + result.requests.cancelled).toBe(server.seen - before);
    // The run ends at the duration (tolerance: 150ms for start-up and the last responses, plus the
    // time other processes kept this one off the CPU).
    expect(result.durationMs).toBeGreaterThanOrEqual(400);
    expect(result.durationMs).toBeLessThan(550 + waited());
  });

  test('open model sends rate × duration requests on schedule', async () => {
    const before = server.seen;
    const waited = cpuWait();
    const result = await runLoad({ url: server.url, concurrency: 10, rate: 250, duration: '1s' });
    expect(result.model).toBe('open');
    expect(result.requests.total).toBe(250);
    expect(server.seen - before).toBe(250);
    expect(result.schedule).toMatchObject({ rate: 250, scheduled: 250 });
    // 250 requests spread over one second: the run lasts about a second (tolerance 100ms, plus the
    // time other processes kept this one off the CPU).
    expect(result.durationMs).toBeGreaterThanOrEqual(990);
    expect(result.durationMs).toBeLessThan(1100 + waited());
  });

  test('open model with -n sends n requests at the rate', async () => {
    const before = server.seen;
    const result = await runLoad({ url: server.url, rate: 100, requests: 30 });
    expect(result.requests.total).toBe(30);
    expect(server.seen - before).toBe(30);
    // The 30th request is due at 290ms.
    expect(result.durationMs).toBeGreaterThanOrEqual(285);
  });

  test('stages hold each rate for its duration, in turn, with exact counts', async () => {
    const before = server.seen;
    const waited = cpuWait();
    const result = await runLoad({
      url: server.url,
      concurrency: 10,
      stages: [
        { duration: '1s', rate: 100 },
        { duration: '1s', rate: 300 },
      ],
    });
    expect(result.requests.total).toBe(400);
    expect(server.seen - before).toBe(400);
    expect(result.schedule).toMatchObject({
      rate: null,
      scheduled: 400,
      stages: [
        { durationMs: 1000, rate: 100, requests: 100 },
        { durationMs: 1000, rate: 300, requests: 300 },
      ],
    });
    // Second 0 holds the first stage, second 1 the second. The timeline counts a response in the second
    // it completes: tolerance ±5 requests at the boundary, plus those due while other processes kept
    // this one off the CPU (at 300/s), whose responses may land a second later.
    const tolerance = 5 + Math.ceil((300 * waited()) / 1000);
    expect(Math.abs(result.timeline[0]!.requests - 100)).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(result.timeline[1]!.requests - 300)).toBeLessThanOrEqual(tolerance);
  });

  test('templates fill {{i}}, {{uuid}} and {{randomInt}} per request, reproducibly under a seed', async () => {
    const run = () =>
      runLoad({
        url: `${server.url}/item/{{i}}?r={{randomInt 1 6}}`,
        method: 'POST',
        body: '{"id":"{{uuid}}","n":{{i}}}',
        requests: 20,
        concurrency: 1,
        seed: 42,
      });
    await run();
    const firstPaths = paths.splice(0);
    const firstBodies = bodies.splice(0);
    expect(firstPaths.map((p) => p.split('?')[0])).toEqual(Array.from({ length: 20 }, (_, i) => `/item/${i}`));
    for (const path of firstPaths) expect(Number(new URL(path, 'http://x').searchParams.get('r'))).toBeGreaterThanOrEqual(1);
    for (const body of firstBodies)
      expect(JSON.parse(body).id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(firstBodies.map((b) => JSON.parse(b).id)).size).toBe(20);
    await run();
    expect(paths).toEqual(firstPaths);
    expect(bodies).toEqual(firstBodies);
  });

  test('headers and method reach the server', async () => {
    let seenHeaders: Record<string, string | string[] | undefined> = {};
    let seenMethod = '';
    const echo = await startServer((req, res) => {
      seenHeaders = req.headers;
      seenMethod = req.method!;
      res.end();
    });
    await runLoad({ url: echo.url, method: 'PUT', headers: ['x-team: payments', 'content-type: text/plain'], body: 'hi', requests: 1 });
    await echo.close();
    expect(seenMethod).toBe('PUT');
    expect(seenHeaders['x-team']).toBe('payments');
    expect(seenHeaders['content-type']).toBe('text/plain');
    expect(seenHeaders['user-agent']).toBe('resil');
  });

  test('credentials in the URL are sent as Basic authentication', async () => {
    let authorization: string | undefined;
    const echo = await startServer((req, res) => {
      authorization = req.headers.authorization;
      res.end();
    });
    await runLoad({ url: `http://ci%20user:p%40ss@127.0.0.1:${echo.port}/`, requests: 1 });
    await echo.close();
    expect(authorization).toBe(`Basic ${Buffer.from('ci user:p@ss').toString('base64')}`);
  });

  test('the timeline has one entry per second that adds up to the total', async () => {
    const waited = cpuWait();
    const result = await runLoad({ url: server.url, rate: 200, duration: '2s', concurrency: 5 });
    const sum = result.timeline.reduce((a, s) => a + s.requests, 0);
    expect(sum).toBe(result.requests.total);
    expect(result.timeline.map((s) => s.t)).toEqual(result.timeline.map((_, i) => i));
    // Responses count in the second they complete: 5 may land late, and at 200/s so may those due
    // while other processes kept this one off the CPU.
    expect(result.timeline[0]!.requests).toBeGreaterThanOrEqual(195 - Math.ceil((200 * waited()) / 1000));
    expect(result.timeline[0]!.p99Ms).not.toBeNull();
    expect(result.histograms.timeline).toHaveLength(result.timeline.length);
  });
});
