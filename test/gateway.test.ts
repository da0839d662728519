import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startGateway } from '../src/demo/gateway.js';
import { cpuWait } from './helpers/machine.js';

// Real sockets only: the providers are node http servers on 127.0.0.1 (port 0) scripted per call,
// and the gateway is called over HTTP. Timing tolerances: lower bounds allow 50 ms of timer slack,
// upper bounds are generous (several hundred ms) and add the time other processes kept this one off
// the CPU during the call, so a busy 2-core machine does not flake.

type Script = (request: IncomingMessage, response: ServerResponse, call: number) => void;

interface FakeProvider {
  url: string;
  /** Requests the provider received. */
  readonly calls: number;
  /** Prompts forwarded to it, in order. */
  readonly prompts: string[];
  /** The X-Request-Id, traceparent and Idempotency-Key of each call, in order ('-' when absent). */
  readonly passed: string[];
  script: Script;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startProvider(script: Script): Promise<FakeProvider> {
  const sockets = new Set<Socket>();
  const prompts: string[] = [];
  const passed: string[] = [];
  let calls = 0;
  const provider: FakeProvider = {
    url: '',
    get calls() {
      return calls;
    },
    prompts,
    passed,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const call = ++calls;
    passed.push(`${req.headers['x-request-id'] ?? '-'} ${req.headers.traceparent ?? '-'} ${req.headers['idempotency-key'] ?? '-'}`);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        prompts.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { prompt: string }).prompt);
      } catch {
        prompts.push('<not json>');
      }
      provider.script(req, res, call);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  provider.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(() => provider.close());
  return provider;
}

const ok =
  (text: string): Script =>
  (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: text }));
const status =
  (code: number, headers: Record<string, string> = {}): Script =>
  (_req, res) =>
    res.writeHead(code, { 'content-type': 'text/plain', ...headers }).end('unavailable');
const hang: Script = () => undefined;
const reset: Script = (req) => req.socket.resetAndDestroy();
const badJson: Script = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"result": tru');

async function gateway(options: Omit<Parameters<typeof startGateway>[0], 'providerA' | 'providerB'>, a: FakeProvider, b: FakeProvider) {
  const gw = await startGateway({ providerA: a.url, providerB: b.url, baseBackoffMs: 5, ...options });
  cleanups.push(() => gw.close());
  return gw;
}

/** One completion through the gateway: status, body, how long it took, and how much of that other processes kept this one off the CPU. */
async function complete(
  url: string,
  prompt = 'hello',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; ms: number; waitedMs: number }> {
  const started = performance.now();
  const waited = cpuWait();
  const response = await request(`${url}/v1/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ prompt }),
  });
  const body = (await response.body.json()) as Record<string, unknown>;
  return { status: response.statusCode, body, ms: performance.now() - started, waitedMs: waited() };
}

describe('LLM gateway (resilient)', () => {
  test('GET /health answers 200 {"ok":true}; bad requests are rejected locally', async () => {
    const a = await startProvider(ok('a'));
    const b = await startProvider(ok('b'));
    const gw = await gateway({}, a, b);
    const health = await request(`${gw.url}/health`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toEqual({ ok: true });
    const bad = await request(`${gw.url}/v1/complete`, { method: 'POST', body: 'not json' });
    expect(bad.statusCode).toBe(400);
    await bad.body.dump();
    const missing = await request(`${gw.url}/nope`);
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();
    expect(a.calls + b.calls).toBe(0);
  });

  test('happy path: A answers, the prompt is forwarded, B is not called', async () => {
    const a = await startProvider(ok('from a'));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({}, a, b);
    const res = await complete(gw.url, 'write a haiku');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result: 'from a', provider: 'a' });
    expect(a.prompts).toEqual(['write a haiku']);
    expect(b.calls).toBe(0);
  });

  test('A failing with 503: retried (1 + retries calls), then served by B', async () => {
    const a = await startProvider(status(503));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ retries: 2 }, a, b);
    const res = await complete(gw.url);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result: 'from b', provider: 'b' });
    expect(a.calls).toBe(3);
    expect(b.calls).toBe(1);
  });

  test('A 503 with Retry-After: 1 once, then 200: served by A after >= ~1 s', async () => {
    const a = await startProvider((req, res, call) => (call === 1 ? status(503, { 'retry-after': '1' }) : ok('from a'))(req, res, call));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({}, a, b);
    const res = await complete(gw.url);
    expect(res.body).toEqual({ result: 'from a', provider: 'a' });
    expect(a.calls).toBe(2);
    expect(b.calls).toBe(0);
    expect(res.ms).toBeGreaterThanOrEqual(950);
    expect(res.ms).toBeLessThan(1800 + res.waitedMs);
  });

  test('a 429 Retry-After larger than 2 s is capped at 2 s', async () => {
    const a = await startProvider((req, res, call) => (call === 1 ? status(429, { 'retry-after': '30' }) : ok('from a'))(req, res, call));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({}, a, b);
    const res = await complete(gw.url);
    expect(res.body).toEqual({ result: 'from a', provider: 'a' });
    expect(a.calls).toBe(2);
    expect(res.ms).toBeGreaterThanOrEqual(1950);
    expect(res.ms).toBeLessThan(2800 + res.waitedMs);
  });

  test('A hanging: each call times out after callTimeoutMs, then B serves', async () => {
    const a = await startProvider(hang);
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ callTimeoutMs: 200, retries: 2 }, a, b);
    const res = await complete(gw.url);
    expect(res.body).toEqual({ result: 'from b', provider: 'b' });
    expect(a.calls).toBe(3);
    // 3 attempts x 200 ms plus small backoffs; well under the 3 x 1 s of the default timeout.
    expect(res.ms).toBeGreaterThanOrEqual(550);
    expect(res.ms).toBeLessThan(1500 + res.waitedMs);
  });

  test.each([
    ['a connection reset', reset],
    ['a 200 whose body is not JSON', badJson],
    ['a 500', status(500)],
  ])('A answering with %s fails over to B', async (_name, script) => {
    const a = await startProvider(script);
    const b = await startProvider(ok('from b'));
    const gw = await gateway({}, a, b);
    const res = await complete(gw.url);
    expect(res.body).toEqual({ result: 'from b', provider: 'b' });
    expect(a.calls).toBe(3);
  });

  test('A connection refused fails over to B', async () => {
    const a = await startProvider(ok('from a'));
    await a.close();
    const b = await startProvider(ok('from b'));
    const gw = await gateway({}, a, b);
    const res = await complete(gw.url);
    expect(res.body).toEqual({ result: 'from b', provider: 'b' });
  });

  test("after 5 consecutive failures A's breaker opens: no calls to A for the cool-down, then half-open lets one through", async () => {
    const cooldown = 800;
    const a = await startProvider(status(500));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ retries: 2, breakerFailures: 5, breakerCooldownMs: cooldown }, a, b);

    expect((await complete(gw.url)).body.provider).toBe('b');
    expect(a.calls).toBe(3); // 3 consecutive failures
    expect((await complete(gw.url)).body.provider).toBe('b');
    expect(a.calls).toBe(5); // failures 4 and 5 open the breaker; the 3rd attempt is refused by the open circuit
    const openedBy = performance.now(); // the breaker opened before this instant

    // Open: straight to B, A sees nothing (checked at once and ~500 ms into the 800 ms cool-down).
    const fast = await complete(gw.url);
    expect(fast.body.provider).toBe('b');
    expect(fast.ms).toBeLessThan(100 + fast.waitedMs);
    await sleep(500 - (performance.now() - openedBy));
    expect((await complete(gw.url)).body.provider).toBe('b');
    expect(a.calls).toBe(5);

    // Cool-down over: half-open lets exactly one call through; it fails, so the breaker opens again.
    await sleep(cooldown + 100 - (performance.now() - openedBy));
    expect((await complete(gw.url)).body.provider).toBe('b');
    expect(a.calls).toBe(6);
    expect((await complete(gw.url)).body.provider).toBe('b');
    expect(a.calls).toBe(6);

    // A recovers; after the next cool-down the half-open call succeeds and closes the breaker.
    a.script = ok('from a');
    await sleep(cooldown + 100);
    expect((await complete(gw.url)).body).toEqual({ result: 'from a', provider: 'a' });
    expect(a.calls).toBe(7);
    expect((await complete(gw.url)).body.provider).toBe('a');
    expect(a.calls).toBe(8);
  });

  test("every call to A and B carries the caller's X-Request-Id and traceparent, and one Idempotency-Key per request", async () => {
    const a = await startProvider(status(500));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ retries: 2, breakerFailures: 10 }, a, b); // 6 failures at A: the breaker stays closed
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect((await complete(gw.url, 'hi', { 'x-request-id': 'req-1', traceparent })).body.provider).toBe('b');
    expect((await complete(gw.url)).body.provider).toBe('b'); // no request id to pass on: none invented, a key made up
    const key = a.passed[3]!.split(' ')[2]!;
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect([...a.passed, ...b.passed]).toEqual([
      ...Array(3).fill(`req-1 ${traceparent} req-1`),
      ...Array(3).fill(`- - ${key}`),
      `req-1 ${traceparent} req-1`,
      `- - ${key}`,
    ]);
  });

  test('both providers failing: 503 with an error and provider null', async () => {
    const a = await startProvider(status(500));
    const b = await startProvider(status(503));
    const gw = await gateway({}, a, b);
    const res = await complete(gw.url);
    expect(res.status).toBe(503);
    expect(res.body.provider).toBeNull();
    expect(res.body.error).toEqual(expect.stringContaining('provider a'));
    expect(res.body.error).toEqual(expect.stringContaining('provider b'));
    expect(a.calls).toBe(3);
    expect(b.calls).toBe(3);
  });
});

describe('LLM gateway (naive)', () => {
  test('A failing: 4 calls to A at once, Retry-After ignored, then 502; B never called', async () => {
    const a = await startProvider(status(503, { 'retry-after': '1' }));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ naive: true }, a, b);
    const res = await complete(gw.url, 'hi', { 'x-request-id': 'req-2' });
    expect(res.status).toBe(502);
    expect(res.body.provider).toBeNull();
    expect(a.calls).toBe(4);
    expect(a.passed).toEqual(Array(4).fill('req-2 - -')); // and no Idempotency-Key
    expect(b.calls).toBe(0);
    expect(res.ms).toBeLessThan(500 + res.waitedMs); // no wait between the calls, none for Retry-After either
  });

  test('A answering 400: not retried (the naive gateway retries only failures that may pass)', async () => {
    const a = await startProvider(status(400));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ naive: true }, a, b);
    expect((await complete(gw.url)).status).toBe(502);
    expect(a.calls).toBe(1);
  });

  test('A healthy: answers like the resilient gateway', async () => {
    const a = await startProvider(ok('from a'));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ naive: true }, a, b);
    const res = await complete(gw.url);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result: 'from a', provider: 'a' });
  });
});
