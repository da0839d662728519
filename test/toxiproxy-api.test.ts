import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../src/errors.js';
import { startToxiproxyApi, type ToxiproxyApi } from '../src/proxy/toxiproxy/api.js';
import { httpFaultSettings } from '../src/proxy/toxiproxy/http-toxics.js';
import { refusedPort, startServer, type TestServer } from './helpers/servers.js';
import { sleep } from './helpers/wait.js';

// Toxiproxy's HTTP API as resil serves it, over real sockets: every route, status code and error
// shape of Toxiproxy's api.go, and toxics acting on a real TCP echo server's traffic.

/**
 * How much sooner than asked a timer may fire, as performance.now() measures it (ms): libuv's loop
 * clock is truncated to whole milliseconds, so a delay of 300 ms can end 299.x ms after it started.
 */
const TIMER_SLACK_MS = 2;

/**
 * A round trip with no latency toxic on, bounded loosely (ms): on a loaded 2-core box a fresh
 * connection and an echo can take 100 ms; every latency toxic it is told apart from is 250 ms or more.
 */
const UNDELAYED_MS = 200;

interface Answer {
  status: number;
  body: any;
  text: string;
}

async function call(
  api: ToxiproxyApi,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text };
}

/** A TCP server that echoes every byte back. */
async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One fresh connection: writes `bytes` and resolves with the ms until all of them came back. */
function roundTrip(address: string, bytes = 64): Promise<number> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let got = 0;
    let started = 0;
    socket.once('connect', () => {
      started = performance.now();
      socket.write(Buffer.alloc(bytes, 'x'));
    });
    socket.on('data', (chunk) => {
      got += chunk.length;
      if (got >= bytes) {
        resolve(performance.now() - started);
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed after ${got} of ${bytes} bytes`)));
  });
}

/** Whether a connection to `address` is accepted ('refused' when nothing listens). */
function connects(address: string): Promise<'accepted' | 'refused'> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', () => resolve('refused'));
  });
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}

/** A GET through an HTTP proxy at `address`, on a fresh connection. */
function httpGet(address: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path: '/x', agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Toxiproxy API', () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let api: ToxiproxyApi | undefined;

  beforeAll(async () => {
    echo = await startEcho();
  });
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  afterAll(async () => {
    await echo.close();
  });

  const start = async (options: Parameters<typeof startToxiproxyApi>[0] = {}) => {
    api = await startToxiproxyApi({ listen: '127.0.0.1:0', seed: 1, ...options });
    return api;
  };

  test('GET /version answers as Toxiproxy does: JSON with a version', async () => {
    const a = await start();
    const answer = await call(a, 'GET', '/version');
    expect(answer.status).toBe(200);
    expect(answer.body.version).toMatch(/^2\.\d+\.\d+$/);
  });

  test('proxies: create (201, port 0 resolved), duplicate (409), missing fields and bad bodies (400), list, show, 404', async () => {
    const a = await start();
    const created = await call(a, 'POST', '/proxies', { name: 'echo', listen: 'localhost:0', upstream: `127.0.0.1:${echo.port}` });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body)).toEqual(['name', 'listen', 'upstream', 'enabled', 'toxics']);
    expect(created.body).toMatchObject({ name: 'echo', upstream: `127.0.0.1:${echo.port}`, enabled: true, toxics: [] });
    expect(created.body.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(created.body.listen).not.toBe('127.0.0.1:0');
    expect(await roundTrip(created.body.listen)).toBeLessThan(UNDELAYED_MS);

    expect(await call(a, 'POST', '/proxies', { name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` })).toMatchObject({
      status: 409,
      body: { error: 'proxy already exists', status: 409 },
    });
    expect((await call(a, 'POST', '/proxies', { upstream: 'x:1' })).body).toEqual({ error: 'missing required field: name', status: 400 });
    expect((await call(a, 'POST', '/proxies', { name: 'n' })).body).toEqual({ error: 'missing required field: upstream', status: 400 });
    const garbage = await call(a, 'POST', '/proxies', '{not json');
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toMatch(/^bad request body: /);
    expect((await call(a, 'POST', '/proxies', { name: 'n', upstream: 'x:1', enabled: 'yes' })).status).toBe(400);
    const badUpstream = await call(a, 'POST', '/proxies', { name: 'n', upstream: 'nonsense' });
    expect([badUpstream.status, badUpstream.body.status]).toEqual([400, 400]);
    expect((await call(a, 'POST', '/proxies', { name: 'n', listen: '127.0.0.1:99999', upstream: 'x:1' })).status).toBe(400);
    // A port taken: Toxiproxy's 500 with the listen error.
    const taken = await call(a, 'POST', '/proxies', { name: 'n', listen: `127.0.0.1:${echo.port}`, upstream: 'x:1' });
    expect([taken.status, taken.body.status]).toEqual([500, 500]);
    expect(taken.body.error).toMatch(new RegExp(`${echo.port}`));

    const all = await call(a, 'GET', '/proxies');
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ echo: created.body });
    expect(await call(a, 'GET', '/proxies/echo')).toMatchObject({ status: 200, body: created.body });
    expect(await call(a, 'GET', '/proxies/nope')).toMatchObject({ status: 404, body: { error: 'proxy not found', status: 404 } });
    expect((await call(a, 'GET', '/nothing')).status).toBe(404);
    expect(await call(a, 'PUT', '/proxies')).toMatchObject({ status: 405, body: { status: 405 } });
  });

  test('toxics: create with defaults (200), duplicate (409), update merges attributes, delete (204); latency measured on an echo', async () => {
    const a = await start();
    const { listen } = (await call(a, 'POST', '/proxies', { name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` }))
      .body;
    const base = await roundTrip(listen);
    expect(base).toBeLessThan(50);

    const added = await call(a, 'POST', '/proxies/echo/toxics', { type: 'latency', attributes: { latency: 150 } });
    expect(added.status).toBe(200);
    expect(added.body).toEqual({
      attributes: { latency: 150, jitter: 0 },
      name: 'latency_downstream',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
    });
    // Latency added ≥ the toxic's (less the timer slack), and not far above it.
    const slowed = await roundTrip(listen);
    expect(slowed).toBeGreaterThanOrEqual(150 - TIMER_SLACK_MS);
    expect(slowed).toBeLessThan(150 + 150);

    expect(await call(a, 'POST', '/proxies/echo/toxics', { type: 'latency' })).toMatchObject({
      status: 409,
      body: { error: 'toxic already exists', status: 409 },
    });
    const badType = await call(a, 'POST', '/proxies/echo/toxics', { type: 'lattency' });
    expect(badType.status).toBe(400);
    expect(badType.body.error).toMatch(/did you mean 'latency'/);
    expect((await call(a, 'POST', '/proxies/echo/toxics', { type: 'latency', stream: 'sideways' })).status).toBe(400);
    expect((await call(a, 'POST', '/proxies/nope/toxics', { type: 'latency' })).status).toBe(404);
    const httpOnTcp = await call(a, 'POST', '/proxies/echo/toxics', { type: 'http_status' });
    expect(httpOnTcp.status).toBe(400);
    expect(httpOnTcp.body.error).toMatch(/http_status is an HTTP toxic/);

    const up = await call(a, 'POST', '/proxies/echo/toxics', { name: 'cut', type: 'limit_data', stream: 'upstream', toxicity: 0 });
    expect(up.body).toMatchObject({ name: 'cut', stream: 'upstream', toxicity: 0, attributes: { bytes: 0 } });
    // Toxiproxy lists the upstream chain first.
    expect((await call(a, 'GET', '/proxies/echo/toxics')).body.map((t: { name: string }) => t.name)).toEqual(['cut', 'latency_downstream']);
    expect((await call(a, 'GET', '/proxies/echo/toxics/cut')).body.name).toBe('cut');
    expect(await call(a, 'GET', '/proxies/echo/toxics/nope')).toMatchObject({
      status: 404,
      body: { error: 'toxic not found', status: 404 },
    });

    const updated = await call(a, 'PATCH', '/proxies/echo/toxics/latency_downstream', { attributes: { latency: 300 } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ attributes: { latency: 300, jitter: 0 }, toxicity: 1 });
    expect(await roundTrip(listen)).toBeGreaterThanOrEqual(300 - TIMER_SLACK_MS);
    // POST updates too (what Toxiproxy's clients send); toxicity 0: the toxic no longer applies.
    expect((await call(a, 'POST', '/proxies/echo/toxics/latency_downstream', { toxicity: 0 })).body).toMatchObject({
      attributes: { latency: 300 },
      toxicity: 0,
    });
    expect(await roundTrip(listen)).toBeLessThan(UNDELAYED_MS);
    expect((await call(a, 'PATCH', '/proxies/echo/toxics/latency_downstream', { toxicity: 2 })).status).toBe(400);

    await call(a, 'PATCH', '/proxies/echo/toxics/latency_downstream', { toxicity: 1 });
    expect(await roundTrip(listen)).toBeGreaterThanOrEqual(300 - TIMER_SLACK_MS);
    const deleted = await call(a, 'DELETE', '/proxies/echo/toxics/latency_downstream');
    expect([deleted.status, deleted.text]).toEqual([204, '']);
    expect(await roundTrip(listen)).toBeLessThan(UNDELAYED_MS);
    expect((await call(a, 'DELETE', '/proxies/echo/toxics/latency_downstream')).status).toBe(404);
  });

  test('update: enabled false refuses connections, true accepts them again on the same port; a new listen moves it', async () => {
    const a = await start();
    const { listen } = (await call(a, 'POST', '/proxies', { name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` }))
      .body;
    const off = await call(a, 'PATCH', '/proxies/echo', { enabled: false });
    expect(off).toMatchObject({ status: 200, body: { enabled: false, listen } });
    expect(await connects(listen)).toBe('refused');
    const on = await call(a, 'POST', '/proxies/echo', { enabled: true });
    expect(on.body).toMatchObject({ enabled: true, listen });
    expect(await roundTrip(listen)).toBeLessThan(UNDELAYED_MS);

    const moved = await call(a, 'PATCH', '/proxies/echo', { listen: '127.0.0.1:0' });
    expect(moved.body.listen).not.toBe(listen);
    expect(await connects(listen)).toBe('refused');
    expect(await roundTrip(moved.body.listen)).toBeLessThan(UNDELAYED_MS);
    expect((await call(a, 'PATCH', '/proxies/nope', { enabled: false })).status).toBe(404);
  });

  test('delete (204) and reset (204: every proxy enabled again, every toxic gone)', async () => {
    const a = await start();
    const upstream = `127.0.0.1:${echo.port}`;
    const one = (await call(a, 'POST', '/proxies', { name: 'one', listen: '127.0.0.1:0', upstream })).body;
    const two = (await call(a, 'POST', '/proxies', { name: 'two', listen: '127.0.0.1:0', upstream })).body;
    await call(a, 'POST', '/proxies/one/toxics', { type: 'latency', attributes: { latency: 400 } });
    await call(a, 'PATCH', '/proxies/two', { enabled: false });
    const reset = await call(a, 'POST', '/reset');
    expect([reset.status, reset.text]).toEqual([204, '']);
    const all = (await call(a, 'GET', '/proxies')).body;
    expect([all.one.enabled, all.one.toxics, all.two.enabled, all.two.toxics]).toEqual([true, [], true, []]);
    expect(await roundTrip(one.listen)).toBeLessThan(UNDELAYED_MS);
    expect(await roundTrip(two.listen)).toBeLessThan(UNDELAYED_MS);

    const deleted = await call(a, 'DELETE', '/proxies/one');
    expect([deleted.status, deleted.text]).toEqual([204, '']);
    expect(await connects(one.listen)).toBe('refused');
    expect(await call(a, 'DELETE', '/proxies/one')).toMatchObject({ status: 404, body: { error: 'proxy not found', status: 404 } });
    expect(Object.keys((await call(a, 'GET', '/proxies')).body)).toEqual(['two']);
  });

  test('populate: creates (201 {"proxies": [...]}), keeps an unchanged proxy, replaces a changed one, checks the whole list first', async () => {
    const a = await start();
    const upstream = `127.0.0.1:${echo.port}`;
    const first = await call(a, 'POST', '/populate', [
      { name: 'a', listen: '127.0.0.1:0', upstream },
      { name: 'b', listen: '127.0.0.1:0', upstream, toxics: [{ type: 'latency', attributes: { latency: 100 } }] },
    ]);
    expect(first.status).toBe(201);
    const [pa, pb] = first.body.proxies;
    expect([pa.name, pb.name, pb.toxics[0].name]).toEqual(['a', 'b', 'latency_downstream']);
    expect(await roundTrip(pb.listen)).toBeGreaterThanOrEqual(100 - TIMER_SLACK_MS);

    await call(a, 'POST', '/proxies/a/toxics', { type: 'latency', attributes: { latency: 10 } });
    // a: same listen and upstream → untouched (its toxic stays); b: port 0 again → replaced, on a new port, no toxics.
    const second = await call(a, 'POST', '/populate', [
      { name: 'a', listen: pa.listen, upstream },
      { name: 'b', listen: '127.0.0.1:0', upstream },
    ]);
    expect(second.status).toBe(201);
    expect(second.body.proxies[0]).toMatchObject({ listen: pa.listen, toxics: [{ name: 'latency_downstream' }] });
    expect(second.body.proxies[1].listen).not.toBe(pb.listen);
    expect(second.body.proxies[1].toxics).toEqual([]);
    expect(await connects(pb.listen)).toBe('refused');

    const bad = await call(a, 'POST', '/populate', [{ name: 'c', upstream }, { upstream }]);
    expect(bad).toMatchObject({ status: 400, body: { error: 'missing required field: name at proxy 2', status: 400 } });
    expect(Object.keys((await call(a, 'GET', '/proxies')).body).sort()).toEqual(['a', 'b']);
    expect((await call(a, 'POST', '/populate', { name: 'x' })).status).toBe(400);
  });

  test("a proxy's tally: connections, bytes each way, and how often each toxic was drawn", async () => {
    const a = await start();
    const { listen } = (await call(a, 'POST', '/proxies', { name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` }))
      .body;
    await roundTrip(listen, 100);
    // Let the proxy see that connection close: a toxic added to an open connection is drawn for it too.
    await sleep(100);
    await call(a, 'POST', '/proxies/echo/toxics', { type: 'latency', attributes: { latency: 5 } });
    await roundTrip(listen, 50);
    await roundTrip(listen, 50);
    const tally = a.proxies()[0]!.tally();
    expect(tally).toBe(
      `echo (${listen} → 127.0.0.1:${echo.port}): 3 connections · 200 B up · 200 B down · toxics latency_downstream 2 · upstream errors 0`,
    );
  });

  test('the token is required when given (401 without it); browsers are refused (403) as by Toxiproxy', async () => {
    const a = await start({ token: 's3cret' });
    expect(await call(a, 'GET', '/proxies')).toMatchObject({ status: 401, body: { status: 401 } });
    expect(await call(a, 'GET', '/proxies', undefined, { authorization: 'Bearer wrong' })).toMatchObject({ status: 401 });
    expect(await call(a, 'GET', '/proxies', undefined, { authorization: 'Bearer s3cret' })).toMatchObject({ status: 200, body: {} });
    const browser = await call(a, 'GET', '/proxies', undefined, { authorization: 'Bearer s3cret', 'user-agent': 'Mozilla/5.0' });
    expect(browser.status).toBe(403);
  });

  test('a proxy whose toxics are refused is not left listening', async () => {
    const a = await start();
    const listen = `127.0.0.1:${await refusedPort()}`;
    const refused = await call(a, 'POST', '/populate', [
      {
        name: 'pay',
        listen,
        upstream: `http://127.0.0.1:${echo.port}`,
        toxics: [
          { name: 'a', type: 'http_status', attributes: { code: 503, retry_after: 1 } },
          { name: 'b', type: 'http_status', attributes: { code: 429, retry_after: 5 } },
        ],
      },
    ]);
    expect(refused.status).toBe(400);
    await expect(roundTrip(listen)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await call(a, 'GET', '/proxies')).body).toEqual({});
  });

  test('a config file at start, with toxics; a bad one is a UsageError naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resil-toxiproxy-'));
    const file = join(dir, 'proxies.json');
    const upstream = `127.0.0.1:${echo.port}`;
    writeFileSync(
      file,
      JSON.stringify([
        { name: 'slow', listen: '127.0.0.1:0', upstream, toxics: [{ type: 'latency', attributes: { latency: 120 } }] },
        { name: 'off', listen: '127.0.0.1:0', upstream, enabled: false },
      ]),
    );
    const a = await start({ config: file });
    const all = (await call(a, 'GET', '/proxies')).body;
    expect(all.slow.toxics).toEqual([
      { attributes: { latency: 120, jitter: 0 }, name: 'latency_downstream', type: 'latency', stream: 'downstream', toxicity: 1 },
    ]);
    expect(all.off.enabled).toBe(false);
    expect(await roundTrip(all.slow.listen)).toBeGreaterThanOrEqual(120 - TIMER_SLACK_MS);
    expect(await connects(all.off.listen)).toBe('refused');

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ name: 'x', upstream, toxics: [{ type: 'latency', attributes: { latncy: 5 } }] }]));
    await expect(startToxiproxyApi({ listen: '127.0.0.1:0', config: bad })).rejects.toThrow(UsageError);
    await expect(startToxiproxyApi({ listen: '127.0.0.1:0', config: bad })).rejects.toThrow(
      /bad\.json: proxy 'x': latency has no attribute 'latncy'/,
    );
    await expect(startToxiproxyApi({ listen: '127.0.0.1:0', config: join(dir, 'none.json') })).rejects.toThrow(/cannot read it \(ENOENT\)/);
  });
});

describe('http_* toxics on a proxy with an http:// upstream', () => {
  let upstream: TestServer;
  let api: ToxiproxyApi | undefined;

  beforeAll(async () => {
    upstream = await startServer((_req, res) => res.end('ok'));
  });
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  afterAll(async () => {
    await upstream.close();
  });

  test('http_status toxicity 1: every request answered 503 with Retry-After; removed: the upstream answers again', async () => {
    api = await startToxiproxyApi({ listen: '127.0.0.1:0', seed: 1 });
    const { listen } = (await call(api, 'POST', '/proxies', { name: 'web', listen: '127.0.0.1:0', upstream: upstream.url })).body;
    expect(await httpGet(listen)).toMatchObject({ status: 200, body: 'ok' });
    const toxic = await call(api, 'POST', '/proxies/web/toxics', { type: 'http_status', attributes: { code: 503, retry_after: 7 } });
    expect(toxic.body).toEqual({
      attributes: { code: 503, retry_after: 7 },
      name: 'http_status_downstream',
      type: 'http_status',
      stream: 'downstream',
      toxicity: 1,
    });
    const seenBefore = upstream.seen;
    for (let i = 0; i < 5; i++) expect(await httpGet(listen)).toMatchObject({ status: 503, retryAfter: '7' });
    expect(upstream.seen).toBe(seenBefore);
    expect((await call(api, 'POST', '/proxies/web/toxics', { type: 'http_status', name: 'up', stream: 'upstream' })).status).toBe(400);
    expect((await call(api, 'POST', '/proxies/web/toxics', { type: 'http_status', name: 'x', attributes: { code: 200 } })).status).toBe(
      400,
    );
    // A raw TCP upstream cannot keep an HTTP toxic: refused, and the proxy stays as it was.
    const toTcp = await call(api, 'PATCH', '/proxies/web', { upstream: `127.0.0.1:${upstream.port}` });
    expect([toTcp.status, toTcp.body.error]).toEqual([400, expect.stringMatching(/http_status is an HTTP toxic/)]);
    expect(await httpGet(listen)).toMatchObject({ status: 503 });
    await call(api, 'DELETE', '/proxies/web/toxics/http_status_downstream');
    expect(await httpGet(listen)).toMatchObject({ status: 200, body: 'ok' });
    // Without it, the same upstream as raw TCP: the bytes pass through untouched, on the same listen address.
    expect((await call(api, 'PATCH', '/proxies/web', { upstream: `127.0.0.1:${upstream.port}` })).body).toMatchObject({ listen });
    expect(await httpGet(listen)).toMatchObject({ status: 200, body: 'ok' });
    expect((await call(api, 'POST', '/proxies/web/toxics', { type: 'http_status' })).status).toBe(400);
  });

  test('on an HTTP proxy, http_latency delays each answer and a TCP latency toxic the connection: both add up', async () => {
    api = await startToxiproxyApi({ listen: '127.0.0.1:0', seed: 1 });
    const { listen } = (await call(api, 'POST', '/proxies', { name: 'web', listen: '127.0.0.1:0', upstream: upstream.url })).body;
    const timed = async () => {
      const started = performance.now();
      expect((await httpGet(listen)).status).toBe(200);
      return performance.now() - started;
    };
    expect(await timed()).toBeLessThan(UNDELAYED_MS);
    await call(api, 'POST', '/proxies/web/toxics', { type: 'http_latency', attributes: { latency: 150 } });
    expect(await timed()).toBeGreaterThanOrEqual(150 - TIMER_SLACK_MS);
    await call(api, 'POST', '/proxies/web/toxics', { type: 'latency', attributes: { latency: 100 } });
    expect(await timed()).toBeGreaterThanOrEqual(150 + 100 - 2 * TIMER_SLACK_MS);
  });

  test('toxicity is per request and seeded: the same seed draws the same faults, at about the stacked chances', async () => {
    const statuses = async (seed: number): Promise<number[]> => {
      const a = await startToxiproxyApi({ listen: '127.0.0.1:0', seed });
      try {
        const { listen } = (await call(a, 'POST', '/proxies', { name: 'web', listen: '127.0.0.1:0', upstream: upstream.url })).body;
        await call(a, 'POST', '/proxies/web/toxics', { type: 'http_status', attributes: { code: 503 }, toxicity: 0.5 });
        await call(a, 'POST', '/proxies/web/toxics', { type: 'http_status', name: 'teapot', attributes: { code: 429 }, toxicity: 0.5 });
        const seen: number[] = [];
        for (let i = 0; i < 80; i++) seen.push((await httpGet(listen)).status);
        return seen;
      } finally {
        await a.close();
      }
    };
    const first = await statuses(7);
    expect(await statuses(7)).toEqual(first);
    // Chances 0.5 (503), 0.25 (429), 0.25 (200): over 80 requests, each count within ±20 of its mean (well over 4 standard deviations).
    const count = (code: number) => first.filter((s) => s === code).length;
    expect(Math.abs(count(503) - 40)).toBeLessThanOrEqual(20);
    expect(Math.abs(count(429) - 20)).toBeLessThanOrEqual(14);
    expect(Math.abs(count(200) - 20)).toBeLessThanOrEqual(14);
  });

  test('the stacked mapping: failure rate 1 − Π(1 − t), weights t_i · Π_{j<i}(1 − t_j)', () => {
    const toxic = (type: string, toxicity: number, attributes: Record<string, number> = {}) => ({
      name: type,
      type,
      stream: 'downstream' as const,
      toxicity,
      attributes,
    });
    const settings = httpFaultSettings(
      [
        toxic('http_status', 0.5, { code: 503, retry_after: 2 }),
        toxic('http_latency', 0.5, { latency: 100, jitter: 20 }),
        toxic('http_reset', 1),
      ],
      3,
    );
    expect(settings).toEqual({
      failureRate: 1,
      faults: 'status:503=0.500000000000,latency:80ms~120ms=0.250000000000,reset=0.250000000000',
      retryAfter: 2,
      seed: 3,
    });
    expect(httpFaultSettings([toxic('http_timeout', 0)], 3)).toEqual({ seed: 3 });
    expect(() =>
      httpFaultSettings(
        [toxic('http_status', 1, { code: 503, retry_after: 1 }), toxic('http_status', 1, { code: 429, retry_after: 5 })],
        3,
      ),
    ).toThrow(/share one retry_after/);
  });
});
