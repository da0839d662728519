import { request as httpRequest } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Pool, request as undiciRequest } from 'undici';
import { CouldNotRunError, UsageError } from '../src/errors.js';
import { startAdminServer, type AdminServer } from '../src/proxy/admin.js';
import type { ChaosProxy } from '../src/proxy/chaos-proxy.js';
import { startChaosProxy, type ProxyOptions } from '../src/proxy/proxy.js';
import {
  callWithClientTimeout,
  nodeCall,
  openTcpSockets,
  rawExchange,
  startRecordingServer,
  undiciCall,
  type CallOutcome,
  type SeenRequest,
} from './helpers/proxy.js';
import { sleep, waitFor } from './helpers/wait.js';
import { refusedPort, type TestServer } from './helpers/servers.js';

// What the chaos proxy does around the faults: pass-through, the mock, probability, weights, seeds,
// windows, targeting, the admin API, input checks and socket hygiene. Real sockets on 127.0.0.1.

let proxy: ChaosProxy | undefined;
let upstream: (TestServer & { requests: SeenRequest[] }) | undefined;
let admin: AdminServer | undefined;
let pool: Pool | undefined;

afterEach(async () => {
  await pool?.destroy();
  await admin?.close();
  await proxy?.close();
  await upstream?.close();
  pool = undefined;
  admin = undefined;
  proxy = undefined;
  upstream = undefined;
});

async function mockProxy(options: Omit<ProxyOptions, 'mock' | 'upstream'> & { mock?: ProxyOptions['mock'] } = {}): Promise<ChaosProxy> {
  proxy = await startChaosProxy({ mock: {}, seed: 1, ...options });
  return proxy;
}

/** Runs `total` GETs through a keep-alive undici Pool, `concurrency` at a time; counts statuses. */
async function hammer(url: string, total: number, concurrency: number, path = '/'): Promise<Map<number, number>> {
  pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const statuses = new Map<number, number>();
  let issued = 0;
  const worker = async () => {
    while (issued < total) {
      issued++;
      const answer = await pool!.request({ path, method: 'GET' });
      await answer.body.dump();
      statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

/** |observed - n p| within 3 sigma of a binomial(n, p). */
function expectWithin3Sigma(observed: number, n: number, p: number): void {
  const sigma = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(observed - n * p)).toBeLessThanOrEqual(3 * sigma);
}

describe('pass-through', () => {
  const RESPONSE_BODY = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));

  async function recordingUpstream() {
    upstream = await startRecordingServer((_seen, res) => {
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('x-resp', 'end-to-end');
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; HttpOnly']);
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-length', RESPONSE_BODY.length);
      res.setHeader('proxy-authenticate', 'Basic realm="upstream"');
      res.writeHead(201, 'Created');
      res.end(RESPONSE_BODY);
    });
    return upstream;
  }

  test('method, path+query, body and headers arrive; status, headers and body come back byte-identical', async () => {
    const up = await recordingUpstream();
    const p = await startChaosProxy({ upstream: up.url, seed: 1 });
    proxy = p;
    const requestBody = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, ...Buffer.from('{"q":"héllo"}')]);
    const outcome = await nodeCall(`${p.url}/api/v1/items?q=a%20b&x=1&x=2`, {
      method: 'PATCH',
      body: requestBody,
      headers: {
        'content-type': 'application/json',
        'x-custom': 'One Two',
        'x-multi': ['a', 'b'],
        authorization: 'Bearer end-to-end',
        // Hop-by-hop: for this connection only, never forwarded.
        'proxy-authorization': 'Basic c2VjcmV0',
        te: 'trailers',
        trailer: 'x-checksum',
        'keep-alive': 'timeout=5',
        connection: 'keep-alive',
      },
    });
    expect(outcome.error).toBeUndefined();

    // What the upstream saw.
    expect(up.requests).toHaveLength(1);
    const seen = up.requests[0]!;
    expect(seen.method).toBe('PATCH');
    expect(seen.url).toBe('/api/v1/items?q=a%20b&x=1&x=2');
    expect(seen.body.equals(requestBody)).toBe(true);
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['content-length']).toBe(String(requestBody.length));
    expect(seen.headers['x-custom']).toBe('One Two');
    expect(seen.headers.authorization).toBe('Bearer end-to-end');
    const rawPairs = (raw: string[]) => raw.flatMap((v, i) => (i % 2 === 0 ? [[v.toLowerCase(), raw[i + 1]]] : []));
    expect(rawPairs(seen.rawHeaders).filter(([name]) => name === 'x-multi')).toEqual([
      ['x-multi', 'a'],
      ['x-multi', 'b'],
    ]);
    expect(seen.headers.host).toBe(new URL(up.url).host);
    for (const hop of ['proxy-authorization', 'te', 'trailer', 'keep-alive']) expect(seen.headers[hop]).toBeUndefined();

    // What the client got back.
    expect(outcome.status).toBe(201);
    expect(outcome.body.equals(RESPONSE_BODY)).toBe(true);
    const h = outcome.headers!;
    expect(h['content-type']).toBe('application/octet-stream');
    expect(h['x-resp']).toBe('end-to-end');
    expect(h['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(h['cache-control']).toBe('no-store');
    expect(h['content-length']).toBe(String(RESPONSE_BODY.length));
    expect(h.date).toBeDefined();
    expect(h['proxy-authenticate']).toBeUndefined();
    expect(p.stats()).toMatchObject({ calls: 1, passedThrough: 1, injected: {}, upstreamErrors: 0, rejected: 0, unmatched: 0 });
  });

  test('the same exchange through undici: headers and body byte-identical', async () => {
    const up = await recordingUpstream();
    proxy = await startChaosProxy({ upstream: up.url, seed: 1 });
    const outcome = await undiciCall(`${proxy.url}/x?y=%2F`, { method: 'PUT', body: 'hello', headers: { 'x-a': 'b' } });
    expect(outcome.status).toBe(201);
    expect(outcome.body.equals(RESPONSE_BODY)).toBe(true);
    expect(outcome.headers!['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(up.requests[0]).toMatchObject({ method: 'PUT', url: '/x?y=%2F' });
    expect(up.requests[0]!.body.toString()).toBe('hello');
    expect(up.requests[0]!.headers['x-a']).toBe('b');
  });

  test('an upstream path prefix is kept in front of the call path', async () => {
    const up = await recordingUpstream();
    proxy = await startChaosProxy({ upstream: `${up.url}/base/`, seed: 1 });
    await nodeCall(`${proxy.url}/v1/x?k=v`);
    expect(up.requests[0]!.url).toBe('/base/v1/x?k=v');
  });

  test('a chunked request body and a 2 MB streamed response arrive whole', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 'abcdefghij');
    upstream = await startRecordingServer((seen, res) => res.writeHead(200, { 'x-len': String(seen.body.length) }).end(big));
    proxy = await startChaosProxy({ upstream: upstream.url, seed: 1 });
    const url = new URL(`${proxy.url}/upload`);
    const { status, body } = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      // The rest of the body goes once the upstream has the request: the proxy forwarded it while the
      // body was still arriving (streamed, so chunked). A fixed 20 ms gap was not always enough on a
      // busy machine: the whole body was in by the time the proxy forwarded it, with a Content-Length.
      req.write('first,');
      void waitFor(() => upstream!.seen === 1, 10_000).then(() => req.end('second'));
    });
    expect(status).toBe(200);
    expect(body.equals(big)).toBe(true);
    expect(upstream.requests[0]!.body.toString()).toBe('first,second');
    expect(upstream.requests[0]!.headers['transfer-encoding']).toBe('chunked');
  });

  test("the upstream's request count equals stats().passedThrough exactly", async () => {
    upstream = await startRecordingServer();
    proxy = await startChaosProxy({ upstream: upstream.url, failureRate: 0.5, faults: 'status:503=1,latency:5ms=1,truncate=1', seed: 3 });
    const outcomes: CallOutcome[] = [];
    for (let i = 0; i < 60; i++) {
      outcomes.push(
        await (i % 2 ? nodeCall : undiciCall)(`${proxy.url}/n/${i}`, { method: i % 3 ? 'GET' : 'POST', body: i % 3 ? undefined : 'b' }),
      );
    }
    const stats = proxy.stats();
    expect(stats.calls).toBe(60);
    expect(upstream.seen).toBe(stats.passedThrough);
    expect(upstream.requests).toHaveLength(stats.passedThrough);
    // Every call that reached the upstream is a pass-through, a latency or a truncate; a 503 never did.
    const injected = stats.injected;
    expect(stats.passedThrough).toBe(60 - (injected['status:503'] ?? 0));
    expect(outcomes.filter((o) => o.status === 503)).toHaveLength(injected['status:503'] ?? 0);
    expect(injected['status:503']).toBeGreaterThan(0);
    expect(injected.truncate).toBeGreaterThan(0);
  });

  test('an upstream that is down gives the client a 502 and counts an upstream error', async () => {
    proxy = await startChaosProxy({ upstream: `http://127.0.0.1:${await refusedPort()}`, seed: 1 });
    const outcome = await nodeCall(`${proxy.url}/`);
    expect(outcome.status).toBe(502);
    expect(proxy.stats()).toMatchObject({ calls: 1, passedThrough: 1, upstreamErrors: 1 });
  });

  // RFC 9110 7.6.1: a proxy must also drop every header named in Connection. See the report.
  test('headers named in the Connection header are hop-by-hop too and not forwarded', async () => {
    const up = await recordingUpstream();
    proxy = await startChaosProxy({ upstream: up.url, seed: 1 });
    const outcome = await nodeCall(`${proxy.url}/`, { headers: { connection: 'keep-alive, x-hop-only', 'x-hop-only': 'secret' } });
    expect(outcome.status).toBe(201);
    expect(up.requests[0]!.headers['x-hop-only']).toBeUndefined();
  });

  // A client sending `Expect: 100-continue` (curl does for large bodies) is answered 100 by node's
  // server, but the header is then forwarded to undici, which refuses it: the call gets a 502. See the report.
  test('a request with Expect: 100-continue reaches the upstream', async () => {
    const up = await recordingUpstream();
    proxy = await startChaosProxy({ upstream: up.url, seed: 1 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${proxy!.url}/upload`,
        { method: 'POST', agent: false, headers: { expect: '100-continue', 'content-length': 5 } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('continue', () => req.end('hello'));
      req.on('error', reject);
    });
    expect(status).toBe(201);
    expect(up.requests[0]!.body.toString()).toBe('hello');
  });
});

describe('mock mode', () => {
  test('the default answer: 200 with a JSON completion body', async () => {
    const p = await mockProxy();
    expect(p.target).toBe('mock');
    for (const outcome of [await nodeCall(`${p.url}/v1/chat`, { method: 'POST', body: '{}' }), await undiciCall(`${p.url}/anything`)]) {
      expect(outcome.status).toBe(200);
      expect(outcome.headers!['content-type']).toBe('application/json');
      expect(outcome.headers!['content-length']).toBe(String(outcome.body.length));
      expect(JSON.parse(outcome.body.toString())).toMatchObject({ object: 'completion', result: expect.any(String) });
    }
    expect(p.stats()).toMatchObject({ calls: 2, passedThrough: 2 });
  });

  test('--mock-status and --mock-body', async () => {
    const p = await mockProxy({ mock: { status: 418, body: 'short and stout' } });
    const outcome = await undiciCall(`${p.url}/`);
    expect(outcome.status).toBe(418);
    expect(outcome.body.toString()).toBe('short and stout');
    expect(outcome.headers!['content-type']).toBe('text/plain; charset=utf-8');
  });

  test('--mock-latency 100ms delays each answer by 100 ms; 50ms~150ms stays in its range', async () => {
    const p = await mockProxy({ mock: { latency: '100ms' } });
    const fixed = await Promise.all([nodeCall(`${p.url}/`), undiciCall(`${p.url}/`)]);
    for (const outcome of fixed) {
      expect(outcome.status).toBe(200);
      // Tolerance: -1 ms timer rounding, +100 ms scheduling, plus the time other processes kept this
      // one off the CPU during the call.
      expect(outcome.headersMs).toBeGreaterThanOrEqual(99);
      expect(outcome.headersMs).toBeLessThan(200 + outcome.waitedMs);
    }
    await p.close();
    const q = await mockProxy({ mock: { latency: '50ms~150ms' }, seed: 9 });
    const ranged = await Promise.all(Array.from({ length: 10 }, () => undiciCall(`${q.url}/`)));
    for (const outcome of ranged) {
      // Tolerance: as above.
      expect(outcome.headersMs).toBeGreaterThanOrEqual(49);
      expect(outcome.headersMs).toBeLessThan(250 + outcome.waitedMs);
    }
  });
});

describe('fault decisions', () => {
  test('failure rate 0.3 over 10,000 calls: the injected share is within 3 sigma of 0.3', async () => {
    const n = 10_000;
    const p = await mockProxy({ failureRate: 0.3, faults: 'status:503', seed: 1234 });
    const statuses = await hammer(p.url, n, 32);
    const faulted = statuses.get(503) ?? 0;
    expect((statuses.get(200) ?? 0) + faulted).toBe(n);
    expectWithin3Sigma(faulted, n, 0.3); // sigma = sqrt(10000 * 0.3 * 0.7) ≈ 45.8
    expect(p.stats()).toEqual({
      calls: n,
      eligible: n,
      considered: n,
      expected: expect.closeTo(0.3 * n, 6),
      passedThrough: n - faulted,
      injected: { 'status:503': faulted },
      upstreamErrors: 0,
      rejected: 0,
      unmatched: 0,
    });
  });

  test("weights: 'status:503=3,status:500=1' splits about 3:1", async () => {
    const n = 4000;
    const p = await mockProxy({ faults: 'status:503=3,status:500=1', seed: 77 });
    const statuses = await hammer(p.url, n, 16);
    expect((statuses.get(503) ?? 0) + (statuses.get(500) ?? 0)).toBe(n);
    expectWithin3Sigma(statuses.get(503) ?? 0, n, 0.75); // sigma = sqrt(4000 * 0.75 * 0.25) ≈ 27.4
    expect(p.stats().injected).toEqual({ 'status:503': statuses.get(503), 'status:500': statuses.get(500) });
  });

  test('the same seed gives the same sequence of decisions; another seed does not', async () => {
    const sequence = async (seed: number) => {
      const p = await mockProxy({ failureRate: 0.5, faults: 'status:503=1,status:500=1,status:429=1', seed });
      expect(p.seed).toBe(seed);
      const statuses: number[] = [];
      pool = new Pool(p.url, { connections: 1 });
      for (let i = 0; i < 200; i++) {
        const answer = await pool.request({ path: '/', method: 'GET' });
        await answer.body.dump();
        statuses.push(answer.statusCode);
      }
      await pool.destroy();
      pool = undefined;
      await p.close();
      proxy = undefined;
      return statuses;
    };
    const first = await sequence(42);
    const again = await sequence(42);
    const other = await sequence(43);
    expect(new Set(first).size).toBe(4); // 200, 503, 500 and 429 all occur
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  test('setFaults with the same seed replays the same decisions', async () => {
    const p = await mockProxy({ failureRate: 0.5, faults: 'status:503', seed: 42 });
    const run = async () => {
      const out: number[] = [];
      for (let i = 0; i < 50; i++) out.push((await undiciCall(`${p.url}/`)).status!);
      return out;
    };
    const first = await run();
    p.setFaults(p.faultSettings());
    expect(await run()).toEqual(first);
  });
});

describe('fault windows', () => {
  /**
   * Starts a proxy with `faults` in the window 300ms..700ms (times `scale`), then a call to it every
   * 10 ms for 1 s (times `scale`) after startSchedule(), each on its own connection, recording for each
   * call the interval (relative to the schedule start) in which the proxy made its decision. Calls
   * overlap, so how many start in each zone does not depend on how long a call takes.
   */
  async function probeOnce(faults: string, scale: number) {
    const p = await mockProxy({ faults, windows: [`${300 * scale}ms..${700 * scale}ms`] });
    const calls: Array<Promise<{ from: number; to: number; outcome: CallOutcome }>> = [];
    const t0 = performance.now();
    p.startSchedule();
    while (performance.now() - t0 < 1000 * scale) {
      const from = performance.now() - t0;
      calls.push(nodeCall(`${p.url}/`).then((outcome) => ({ from, to: performance.now() - t0, outcome })));
      await sleep(10);
    }
    const samples = await Promise.all(calls);
    // Tolerance: classify only calls wholly at least 50 ms (times `scale`) away from a window edge.
    const before = samples.filter((s) => s.to < 250 * scale);
    const inside = samples.filter((s) => s.from > 350 * scale && s.to < 650 * scale);
    const after = samples.filter((s) => s.from > 750 * scale);
    return { p, before, inside, after };
  }

  /**
   * At least 5 calls wholly in each zone, or the same again with the schedule stretched 2× and 4×: on a
   * starved machine (load average 11 on 2 CPUs) a call took longer than a zone is wide.
   */
  async function probe(faults: string) {
    for (const scale of [1, 2]) {
      const zones = await probeOnce(faults, scale);
      if ([zones.before, zones.inside, zones.after].every((zone) => zone.length >= 5)) return zones;
      await zones.p.close();
      proxy = undefined;
    }
    const zones = await probeOnce(faults, 4);
    for (const zone of [zones.before, zones.inside, zones.after]) expect(zone.length).toBeGreaterThanOrEqual(5);
    return zones;
  }

  test("'300ms..700ms': calls before and after pass, calls inside are faulted", async () => {
    const { before, inside, after } = await probe('status:503');
    for (const s of before) expect(s.outcome.status).toBe(200);
    for (const s of inside) expect(s.outcome.status).toBe(503);
    for (const s of after) expect(s.outcome.status).toBe(200);
  });

  test("down in '300ms..700ms': refused inside the window, answered before and after", async () => {
    const { p, before, inside, after } = await probe('down');
    for (const s of before) expect(s.outcome.status).toBe(200);
    for (const s of inside) expect(s.outcome.error?.code).toBe('ECONNREFUSED');
    for (const s of after) expect(s.outcome.status).toBe(200);
    expect(p.stats().injected).toEqual({ down: 1 });
  });
});

describe('targeting', () => {
  const statusOf = async (p: ChaosProxy, path: string, method = 'GET', headers?: Record<string, string>) =>
    (await undiciCall(`${p.url}${path}`, { method, headers })).status;

  test('matchMethod: only calls with that method are faulted', async () => {
    const p = await mockProxy({ faults: 'status:503', matchMethod: 'POST' });
    expect(await statusOf(p, '/', 'POST')).toBe(503);
    expect(await statusOf(p, '/', 'GET')).toBe(200);
    expect(await statusOf(p, '/', 'PUT')).toBe(200);
    p.setFaults({ faults: 'status:503', matchMethod: 'put, delete' });
    expect(await statusOf(p, '/', 'PUT')).toBe(503);
    expect(await statusOf(p, '/', 'DELETE')).toBe(503);
    expect(await statusOf(p, '/', 'POST')).toBe(200);
  });

  test("matchPath '/v1/**': only paths under /v1 are faulted; the query is not matched", async () => {
    const p = await mockProxy({ faults: 'status:503', matchPath: '/v1/**' });
    expect(await statusOf(p, '/v1/chat')).toBe(503);
    expect(await statusOf(p, '/v1/a/b/c')).toBe(503);
    expect(await statusOf(p, '/v1/chat?stream=true')).toBe(503);
    expect(await statusOf(p, '/v2/chat')).toBe(200);
    expect(await statusOf(p, '/v10/chat')).toBe(200);
    expect(await statusOf(p, '/v2/chat?next=/v1/x')).toBe(200);
    expect(await statusOf(p, '/')).toBe(200);
  });

  test("matchHeader 'x-tenant: beta' and 'X-Tenant: *'", async () => {
    const p = await mockProxy({ faults: 'status:503', matchHeader: 'x-tenant: beta' });
    expect(await statusOf(p, '/', 'GET', { 'x-tenant': 'beta' })).toBe(503);
    expect(await statusOf(p, '/', 'GET', { 'X-Tenant': 'beta' })).toBe(503);
    expect(await statusOf(p, '/', 'GET', { 'x-tenant': 'alpha' })).toBe(200);
    expect(await statusOf(p, '/')).toBe(200);
    p.setFaults({ faults: 'status:503', matchHeader: 'X-Tenant: *' });
    expect(await statusOf(p, '/', 'GET', { 'x-tenant': 'alpha' })).toBe(503);
    expect(await statusOf(p, '/', 'GET', { 'x-tenant': 'beta' })).toBe(503);
    expect(await statusOf(p, '/', 'GET', { 'x-other': 'beta' })).toBe(200);
  });

  test('criteria combine: method AND path', async () => {
    const p = await mockProxy({ faults: 'status:503', matchMethod: 'GET', matchPath: '/v1/**' });
    expect(await statusOf(p, '/v1/x', 'GET')).toBe(503);
    expect(await statusOf(p, '/v1/x', 'POST')).toBe(200);
    expect(await statusOf(p, '/v2/x', 'GET')).toBe(200);
    expect(p.stats()).toMatchObject({ calls: 3, passedThrough: 2, injected: { 'status:503': 1 } });
  });
});

describe('not an open proxy', () => {
  test('an absolute-form request target gets 400 and is never forwarded', async () => {
    upstream = await startRecordingServer();
    const p = await startChaosProxy({ upstream: upstream.url, seed: 1 });
    proxy = p;
    for (const target of ['http://example.com/', `${upstream.url}/`]) {
      const { data } = await rawExchange(p.port, `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`);
      expect(data.startsWith('HTTP/1.1 400 ')).toBe(true);
    }
    expect(upstream.seen).toBe(0);
    expect(p.stats()).toMatchObject({ calls: 2, passedThrough: 0, rejected: 2 });
  });
});

describe('admin API', () => {
  const adminCall = async (path: string, options: { method?: string; body?: string; token?: string } = {}) => {
    const answer = await undiciRequest(`${admin!.url}${path}`, {
      method: (options.method ?? 'GET') as 'GET',
      body: options.body,
      headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
    });
    const text = await answer.body.text();
    return { status: answer.statusCode, json: JSON.parse(text) as Record<string, unknown> };
  };

  test('GET /faults, PUT /faults (valid and invalid), POST /reset, GET /stats', async () => {
    const p = await mockProxy({ failureRate: 0, seed: 5 });
    admin = await startAdminServer(p, { port: 0 });

    const initial = await adminCall('/faults');
    expect(initial.status).toBe(200);
    // toMatchObject: GET /faults also echoes non-fault options today (see the failing test below).
    expect(initial.json).toMatchObject({ failureRate: 0, seed: 5 });
    expect(initial.json.faults).toBeUndefined();

    const put = await adminCall('/faults', { method: 'PUT', body: JSON.stringify({ faults: 'status:429', retryAfter: 3, seed: 8 }) });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ faults: 'status:429', retryAfter: 3, seed: 8 });
    expect((await adminCall('/faults')).json).toEqual({ faults: 'status:429', retryAfter: 3, seed: 8 });
    const faulted = await undiciCall(`${p.url}/`);
    expect(faulted.status).toBe(429);
    expect(faulted.headers!['retry-after']).toBe('3');

    const invalid = await adminCall('/faults', { method: 'PUT', body: JSON.stringify({ faults: 'status:99' }) });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error).toMatch(/status:99/);
    const notJson = await adminCall('/faults', { method: 'PUT', body: 'failureRate=1' });
    expect(notJson.status).toBe(400);
    expect(notJson.json.error).toMatch(/JSON/);
    // The invalid PUTs changed nothing.
    expect((await adminCall('/faults')).json).toEqual({ faults: 'status:429', retryAfter: 3, seed: 8 });
    expect((await undiciCall(`${p.url}/`)).status).toBe(429);

    const stats = await adminCall('/stats');
    expect(stats.status).toBe(200);
    expect(stats.json).toEqual({
      calls: 2,
      eligible: 2,
      considered: 2,
      expected: 2,
      passedThrough: 0,
      injected: { 'status:429': 2 },
      upstreamErrors: 0,
      rejected: 0,
      unmatched: 0,
      guard: { halted: false, since: null, cause: null, faultsLeft: null, faultRate: null },
    });
    const reset = await adminCall('/reset', { method: 'POST' });
    expect(reset.status).toBe(200);
    const zero = {
      calls: 0,
      eligible: 0,
      considered: 0,
      expected: 0,
      passedThrough: 0,
      injected: {},
      upstreamErrors: 0,
      rejected: 0,
      unmatched: 0,
    };
    expect(reset.json).toEqual({ ...zero, guard: { halted: false, since: null, cause: null, faultsLeft: null, faultRate: null } });
    expect(p.stats()).toEqual(zero);
    expect((await adminCall('/nowhere')).status).toBe(404);
  });

  // JSON that is not an object of the right shape (null, a string mix given as a number) throws a
  // TypeError inside setFaults/buildFaultPlan, which the admin server turns into a 500. See the report.
  test('PUT /faults with well-formed JSON of the wrong shape is a 400, not a 500', async () => {
    const p = await mockProxy();
    admin = await startAdminServer(p, { port: 0 });
    const bodies = ['null', '[]', '{"faults":5}', '{"windows":"1s..2s"}', '{"matchMethod":1}'];
    const statuses: Record<string, number> = {};
    for (const body of bodies) statuses[body] = (await adminCall('/faults', { method: 'PUT', body })).status;
    expect(statuses).toEqual(Object.fromEntries(bodies.map((body) => [body, 400])));
  });

  // faultSettings() returns every option given to startChaosProxy (upstream URL with its password,
  // listen, mock...), and GET /faults serves it. See the report.
  test('GET /faults shows the fault settings only, never the upstream URL or its credentials', async () => {
    upstream = await startRecordingServer();
    const withCredentials = upstream.url.replace('http://', 'http://user:s3cret@');
    const p = await startChaosProxy({ upstream: withCredentials, name: 'payments', failureRate: 0.1, seed: 2 });
    proxy = p;
    expect(p.target).not.toContain('s3cret');
    admin = await startAdminServer(p, { port: 0 });
    const answer = await adminCall('/faults');
    expect(JSON.stringify(answer.json)).not.toContain('s3cret');
    expect(answer.json).toEqual({ failureRate: 0.1, seed: 2 });
  });

  test('with a token, a call without the right Authorization: Bearer gets 401', async () => {
    const p = await mockProxy();
    admin = await startAdminServer(p, { port: 0, token: 's3cret' });
    expect((await adminCall('/stats')).status).toBe(401);
    expect((await adminCall('/stats', { token: 'wrong' })).status).toBe(401);
    expect((await adminCall('/faults', { method: 'PUT', body: '{"faults":"status:500"}' })).status).toBe(401);
    expect((await adminCall('/reset', { method: 'POST', token: 's3cre' })).status).toBe(401);
    expect(p.faultSettings().faults).toBeUndefined();
    expect((await adminCall('/stats', { token: 's3cret' })).status).toBe(200);
    expect((await adminCall('/faults', { method: 'PUT', body: '{"faults":"status:500"}', token: 's3cret' })).status).toBe(200);
    expect(p.faultSettings().faults).toBe('status:500');
  });
});

describe('bad input', () => {
  test.each<[string, ProxyOptions, RegExp]>([
    ['status:99', { mock: {}, faults: 'status:99' }, /status:99/],
    ['latency:fast', { mock: {}, faults: 'latency:fast' }, /latency:fast/],
    ['truncate:-1', { mock: {}, faults: 'truncate:-1' }, /truncate:-1/],
    ['an unknown fault type', { mock: {}, faults: 'explode' }, /unknown fault type 'explode'/],
    ['failureRate 1.5', { mock: {}, failureRate: 1.5 }, /failure-rate.*1\.5/],
    ["window '5s..2s'", { mock: {}, faults: 'status:503', windows: ['5s..2s'] }, /5s\.\.2s/],
    ["upstream 'ftp://x'", { upstream: 'ftp://x' }, /ftp/],
    ['neither upstream nor mock', {}, /--upstream.*--mock/],
    ['both upstream and mock', { upstream: 'http://127.0.0.1:1', mock: {} }, /--upstream.*--mock/],
  ])('%s is a UsageError', async (_name, options, message) => {
    const attempt = startChaosProxy(options);
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(message);
  });

  test('every problem is listed at once', async () => {
    await expect(startChaosProxy({ upstream: 'ftp://x', faults: 'status:99', failureRate: 2 })).rejects.toThrow(
      /ftp.*; .*failure-rate.*; .*status:99/,
    );
  });

  test('a listen port already taken is a CouldNotRunError', async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const attempt = startChaosProxy({ mock: {}, listen: `127.0.0.1:${port}` });
      await expect(attempt).rejects.toBeInstanceOf(CouldNotRunError);
      await expect(attempt).rejects.toThrow(/already in use/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

describe('socket hygiene', () => {
  // 2,000 calls take every fault path a few hundred times each; the long run (100,000 faulted calls,
  // descriptors counted from outside) is `npm run bench:soak` (scripts/bench/proxy-fds.mjs).
  test('after 2,000 faulted calls no connection is left open once the clients are done', async () => {
    const p = await mockProxy({ faults: 'reset=2,close=2,status:503=2,truncate=2,timeout=1', seed: 11 });
    const baseline = openTcpSockets();
    const total = 2_000;
    const concurrency = 32;
    pool = new Pool(p.url, { connections: concurrency, pipelining: 1 });
    const outcomes: Record<string, number> = {};
    let issued = 0;
    let peak = 0;
    const worker = async () => {
      while (issued < total) {
        if (++issued % 100 === 0) peak = Math.max(peak, openTcpSockets());
        // The client gives up 300 ms after dispatch (the timeout fault never answers). At 100 ms a
        // loaded CI box let a few calls time out before they even reached the proxy.
        const outcome = await callWithClientTimeout(pool!, '/', 300);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await pool.destroy();
    pool = undefined;

    const stats = p.stats();
    expect(stats.calls).toBe(total);
    expect(Object.values(stats.injected).reduce((a, b) => a + b, 0)).toBe(total);
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(total);
    // Each fault shows up as its own client outcome. Tolerance: on a starved box a call answered
    // later than 300 ms is also a client timeout, so those counts may only be lower, never higher.
    const expected: Record<string, number> = {
      '503': stats.injected['status:503']!,
      ECONNRESET: stats.injected.reset!,
      UND_ERR_SOCKET: stats.injected.close!,
      '200 cut short': stats.injected.truncate!,
    };
    expect(Object.keys(outcomes).sort()).toEqual([...Object.keys(expected), 'client timeout'].sort());
    for (const [key, count] of Object.entries(expected)) expect(outcomes[key]).toBeLessThanOrEqual(count);
    expect(outcomes['client timeout']).toBeGreaterThanOrEqual(stats.injected.timeout!);
    // The count below does see the sockets: during the run it was well above the baseline.
    expect(peak).toBeGreaterThan(baseline + 10);

    // Tolerance: the proxy closes its ends asynchronously; allow 2 s for the count to come back down.
    const settled = await waitFor(() => openTcpSockets() <= baseline, 2000);
    expect({ open: openTcpSockets(), baseline, settled }).toEqual({ open: expect.any(Number), baseline, settled: true });
  }, 20_000);
});
