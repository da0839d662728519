import type { ChaosProxy } from '../src/proxy/chaos-proxy.js';
import { startChaosProxy, type ProxyOptions } from '../src/proxy/proxy.js';
import { nodeCall, rawExchange, undiciCall, type CallOutcome } from './helpers/proxy.js';
import { startServer, type TestServer } from './helpers/servers.js';

// Every fault type, as two real HTTP clients (node's http.request and undici's request) see it
// through the proxy, over real sockets on 127.0.0.1.

/** The upstream's answer: 200 bytes of JSON with an explicit Content-Length. */
const BODY = Buffer.from(JSON.stringify({ data: 'x'.repeat(189) }));

describe('chaos proxy faults, as a client sees them', () => {
  let upstream: TestServer;
  let proxy: ChaosProxy | undefined;

  beforeAll(async () => {
    expect(BODY.length).toBe(200);
    upstream = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length, 'x-upstream': 'yes' }).end(BODY);
    });
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    await upstream.close();
  });

  const start = async (options: Omit<ProxyOptions, 'upstream'>) => {
    proxy = await startChaosProxy({ upstream: upstream.url, seed: 1, ...options });
    return proxy;
  };
  /** The same call with both clients, one after the other. */
  const bothClients = async (url: string, timeoutMs?: number): Promise<[CallOutcome, CallOutcome]> => [
    await nodeCall(url, { timeoutMs }),
    await undiciCall(url, { timeoutMs }),
  ];

  describe('status:CODE', () => {
    test('503 comes back with Retry-After: 1 by default, and the upstream is never called', async () => {
      const p = await start({ faults: 'status:503' });
      const seenBefore = upstream.seen;
      for (const outcome of await bothClients(`${p.url}/v1/chat`)) {
        expect(outcome.error).toBeUndefined();
        expect(outcome.status).toBe(503);
        expect(outcome.headers!['retry-after']).toBe('1');
        expect(JSON.parse(outcome.body.toString())).toMatchObject({ error: { type: 'injected_fault', status: 503 } });
      }
      expect(p.stats()).toMatchObject({ calls: 2, passedThrough: 0, injected: { 'status:503': 2 } });
      expect(upstream.seen).toBe(seenBefore);
    });

    test('429 carries the configured Retry-After', async () => {
      const p = await start({ faults: 'status:429', retryAfter: 7 });
      for (const outcome of await bothClients(`${p.url}/`)) {
        expect(outcome.status).toBe(429);
        expect(outcome.headers!['retry-after']).toBe('7');
      }
    });

    test('500 is that status with no Retry-After', async () => {
      const p = await start({ faults: 'status:500' });
      for (const outcome of await bothClients(`${p.url}/`)) {
        expect(outcome.status).toBe(500);
        expect(outcome.headers!['retry-after']).toBeUndefined();
      }
      expect(p.stats().injected).toEqual({ 'status:500': 2 });
    });
  });

  describe('latency', () => {
    test('latency:150ms: the upstream answer, unchanged, about 150 ms late', async () => {
      const p = await start({ faults: 'latency:150ms' });
      for (const outcome of await bothClients(`${p.url}/slow`)) {
        expect(outcome.error).toBeUndefined();
        expect(outcome.status).toBe(200);
        expect(outcome.headers!['x-upstream']).toBe('yes');
        expect(outcome.body.equals(BODY)).toBe(true);
        // Tolerance: timers never fire early (1 ms rounding allowed); at most +100 ms of scheduling and
        // I/O, plus the time other processes kept this one off the CPU during the call.
        expect(outcome.headersMs).toBeGreaterThanOrEqual(149);
        expect(outcome.headersMs).toBeLessThan(250 + outcome.waitedMs);
      }
      expect(p.stats()).toMatchObject({ calls: 2, passedThrough: 2, injected: { 'latency:150ms': 2 } });
    });

    test('latency:100ms~300ms: each delay lies in the range and the range is used (uniform)', async () => {
      const p = await start({ faults: 'latency:100ms~300ms', seed: 7 });
      const calls = [
        ...Array.from({ length: 16 }, () => undiciCall(`${p.url}/r`)),
        ...Array.from({ length: 4 }, () => nodeCall(`${p.url}/r`)),
      ];
      const outcomes = await Promise.all(calls);
      for (const o of outcomes) {
        expect(o.status).toBe(200);
        expect(o.body.equals(BODY)).toBe(true);
      }
      // Tolerance: -1 ms (timer rounding) below 100 ms; +100 ms above 300 ms for 20 concurrent calls on
      // 2 cores, plus the time other processes kept this one off the CPU during the call.
      for (const o of outcomes) {
        expect(o.headersMs).toBeGreaterThanOrEqual(99);
        expect(o.headersMs).toBeLessThan(400 + o.waitedMs);
      }
      // Uniform over 200 ms: with 20 draws (seeded, so this is deterministic) both ends of the range are
      // reached. The earliest answer may be late by what the machine took from it, never early.
      const earliest = outcomes.reduce((a, b) => (b.headersMs! < a.headersMs! ? b : a));
      expect(earliest.headersMs).toBeLessThan(160 + earliest.waitedMs);
      expect(Math.max(...outcomes.map((o) => o.headersMs!))).toBeGreaterThan(240);
    });
  });

  describe('timeout', () => {
    test('no response ever: the client-side timeout fires, and the proxy counts it', async () => {
      const p = await start({ faults: 'timeout' });
      const node = await nodeCall(`${p.url}/hang`, { timeoutMs: 300 });
      expect(node.status).toBeUndefined();
      expect(node.error?.code).toBe('CLIENT_TIMEOUT');
      // Tolerance: node's socket timeout fires at 300 ms, -1 ms rounding, +150 ms scheduling (plus the
      // time other processes kept this one off the CPU).
      expect(node.elapsedMs).toBeGreaterThanOrEqual(299);
      expect(node.elapsedMs).toBeLessThan(450 + node.waitedMs);

      const undici = await undiciCall(`${p.url}/hang`, { timeoutMs: 300 });
      expect(undici.status).toBeUndefined();
      expect(undici.error?.code).toBe('UND_ERR_HEADERS_TIMEOUT');
      // Tolerance: undici runs headersTimeout on its coarse "fast timers" (about 1 s resolution), so a
      // 300 ms timeout fires anywhere from 300 ms to about 1.5 s.
      expect(undici.elapsedMs).toBeGreaterThanOrEqual(299);
      expect(undici.elapsedMs).toBeLessThan(2000 + undici.waitedMs);

      expect(p.stats()).toMatchObject({ calls: 2, passedThrough: 0, injected: { timeout: 2 } });
    });

    test('the connection is held open, silent, until the client gives up', async () => {
      const p = await start({ faults: 'timeout' });
      const { data, closed, socket } = await rawExchange(p.port, 'GET /hang HTTP/1.1\r\nHost: x\r\n\r\n', 600);
      expect(data).toBe('');
      expect(closed).toBe(false);
      socket.destroy();
      expect(p.stats().injected).toEqual({ timeout: 1 });
    });
  });

  test('reset: a TCP RST, ECONNRESET in both clients', async () => {
    const p = await start({ faults: 'reset' });
    const [node, undici] = await bothClients(`${p.url}/`);
    expect(node.status).toBeUndefined();
    expect(node.error).toMatchObject({ code: 'ECONNRESET', message: 'read ECONNRESET' });
    expect(undici.status).toBeUndefined();
    expect(undici.error).toMatchObject({ code: 'ECONNRESET' });
    expect(p.stats()).toMatchObject({ calls: 2, passedThrough: 0, injected: { reset: 2 } });
  });

  test("close: closed with no response, node 'socket hang up' and undici UND_ERR_SOCKET", async () => {
    const p = await start({ faults: 'close' });
    const [node, undici] = await bothClients(`${p.url}/`);
    // What node's http client actually reports for an empty reply: ECONNRESET with 'socket hang up'.
    expect(node.status).toBeUndefined();
    expect(node.error).toMatchObject({ code: 'ECONNRESET', message: 'socket hang up' });
    expect(undici.status).toBeUndefined();
    expect(undici.error).toMatchObject({ code: 'UND_ERR_SOCKET', name: 'SocketError' });
    expect(p.stats()).toMatchObject({ calls: 2, passedThrough: 0, injected: { close: 2 } });
  });

  describe('truncate', () => {
    test('default: the full Content-Length announced, half the body sent, then the connection closes', async () => {
      const p = await start({ faults: 'truncate' });
      const [node, undici] = await bothClients(`${p.url}/`);
      for (const outcome of [node, undici]) {
        expect(outcome.status).toBe(200);
        expect(outcome.headers!['content-length']).toBe('200');
        expect(outcome.errorAfterHeaders).toBe(true);
        expect(outcome.body.length).toBe(100);
        expect(outcome.body.equals(BODY.subarray(0, 100))).toBe(true);
      }
      expect(node.error).toMatchObject({ code: 'ECONNRESET', message: 'aborted' });
      expect(undici.error).toMatchObject({ code: 'UND_ERR_SOCKET' });
      expect(p.stats()).toMatchObject({ calls: 2, passedThrough: 2, injected: { truncate: 2 } });
    });

    test('truncate:37: exactly 37 body bytes arrive', async () => {
      const p = await start({ faults: 'truncate:37' });
      for (const outcome of await bothClients(`${p.url}/`)) {
        expect(outcome.status).toBe(200);
        expect(outcome.headers!['content-length']).toBe('200');
        expect(outcome.error).toBeDefined();
        expect(outcome.errorAfterHeaders).toBe(true);
        expect(outcome.body.equals(BODY.subarray(0, 37))).toBe(true);
      }
    });

    test('truncate:0: headers and no body bytes at all', async () => {
      const p = await start({ faults: 'truncate:0' });
      for (const outcome of await bothClients(`${p.url}/`)) {
        expect(outcome.status).toBe(200);
        expect(outcome.headers!['content-length']).toBe('200');
        expect(outcome.errorAfterHeaders).toBe(true);
        expect(outcome.body.length).toBe(0);
      }
    });
  });

  test('slow-body:1000: 200 B arrive whole, at about 1000 B/s', async () => {
    const p = await start({ faults: 'slow-body:1000' });
    for (const outcome of await bothClients(`${p.url}/`)) {
      expect(outcome.error).toBeUndefined();
      expect(outcome.status).toBe(200);
      expect(outcome.headers!['x-upstream']).toBe('yes');
      expect(outcome.body.equals(BODY)).toBe(true);
      // Nominal 200 ms. Tolerance: -25% (the fault sends 20 pieces a second and the first 50 B piece at
      // once, so the last byte leaves after 150 ms), +100 ms for scheduling, plus the time other
      // processes kept this one off the CPU.
      expect(outcome.elapsedMs).toBeGreaterThanOrEqual(148);
      expect(outcome.elapsedMs).toBeLessThan(300 + outcome.waitedMs);
      // The body is spread out, not sent at the end: it takes at least 3 of the 4 ticks after the headers.
      expect(outcome.elapsedMs - outcome.headersMs!).toBeGreaterThanOrEqual(140);
    }
    expect(p.stats()).toMatchObject({ passedThrough: 2, injected: { 'slow-body:1000': 2 } });
  });

  test('malformed: a 200 whose body is not valid JSON', async () => {
    const p = await start({ faults: 'malformed' });
    const seenBefore = upstream.seen;
    for (const outcome of await bothClients(`${p.url}/`)) {
      expect(outcome.error).toBeUndefined();
      expect(outcome.status).toBe(200);
      expect(outcome.headers!['content-type']).toBe('application/json');
      expect(outcome.body.length).toBeGreaterThan(0);
      expect(() => JSON.parse(outcome.body.toString('utf8'))).toThrow(SyntaxError);
    }
    expect(upstream.seen).toBe(seenBefore);
    expect(p.stats()).toMatchObject({ calls: 2, passedThrough: 0, injected: { malformed: 2 } });
  });

  test('down: connection refused while it holds; clearing it brings the listener back', async () => {
    const p = await start({ faults: 'down' });
    for (const outcome of await bothClients(`${p.url}/`)) {
      expect(outcome.status).toBeUndefined();
      expect(outcome.error?.code).toBe('ECONNREFUSED');
    }
    expect(p.stats()).toMatchObject({ calls: 0, passedThrough: 0, injected: { down: 1 } });

    p.setFaults({});
    // The listener reopens asynchronously, on the same port: wait for it (tolerance: 1 s).
    let answer: CallOutcome | undefined;
    const deadline = performance.now() + 1000;
    do answer = await nodeCall(`${p.url}/`);
    while (answer.error?.code === 'ECONNREFUSED' && performance.now() < deadline);
    expect(answer.status).toBe(200);
    expect(answer.body.equals(BODY)).toBe(true);
    expect((await undiciCall(`${p.url}/`)).status).toBe(200);
  });
});
