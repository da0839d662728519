import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startGateway } from '../src/demo/gateway.js';
import { readEvents } from '../src/demo/sse.js';
import { cpuWait } from './helpers/machine.js';

// Real sockets only: the providers are node http servers on 127.0.0.1 (port 0) scripted per call,
// speaking OpenAI's chat-completions format by hand (a few lines each, so the tests do not depend on
// resil's own mocks), and the gateway is called over HTTP. Timing tolerances: lower bounds allow 50 ms
// of timer slack, upper bounds are generous (several hundred ms) and add the time other processes kept
// this one off the CPU during the call, so a busy 2-core machine does not flake.

/** What the gateway sent a provider: its path and JSON body. */
interface Asked {
  path: string;
  model?: unknown;
  messages?: Array<{ role: string; content: string }>;
  stream?: unknown;
}

type Script = (request: IncomingMessage, response: ServerResponse, call: number, asked: Asked) => void;

interface FakeProvider {
  url: string;
  /** Requests the provider received. */
  readonly calls: number;
  /** Prompts forwarded to it, in order. */
  readonly prompts: string[];
  /** What each call asked for, in order. */
  readonly asked: Asked[];
  /** The X-Request-Id, traceparent and Idempotency-Key of each call, in order ('-' when absent). */
  readonly passed: string[];
  /** Calls whose connection closed before the provider ended its answer (the gateway gave up on them). */
  readonly abandoned: number;
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
  const asked: Asked[] = [];
  const passed: string[] = [];
  let calls = 0;
  let abandoned = 0;
  const provider: FakeProvider = {
    url: '',
    get calls() {
      return calls;
    },
    get abandoned() {
      return abandoned;
    },
    prompts,
    asked,
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
    res.on('close', () => {
      if (!res.writableFinished) abandoned++;
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: Asked = { path: req.url ?? '' };
      try {
        body = { ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<Asked, 'path'>), path: body.path };
      } catch {
        // recorded without a body
      }
      asked.push(body);
      prompts.push(body.messages?.[0]?.content ?? '<no prompt>');
      provider.script(req, res, call, body);
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

/** One chunk of an OpenAI chat-completions stream. */
const chunk = (delta: Record<string, string>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

interface StreamPlan {
  /** Sent one at a time, `gapMs` apart (default 5). */
  tokens: string[];
  gapMs?: number;
  /** After `at` tokens: the connection is destroyed, an error event ends the body, or nothing more is sent. */
  fail?: { at: number; how: 'cut' | 'error' | 'stall' };
}

/** An OpenAI-style stream: a role chunk, one chunk per token, a finish chunk and `data: [DONE]`, or a failure on the way. */
const streams =
  ({ tokens, gapMs = 5, fail }: StreamPlan): Script =>
  (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk({ role: 'assistant', content: '' }));
    const send = async () => {
      for (let i = 0; i <= tokens.length; i++) {
        // Unreferenced: a stream left hanging does not keep jest waiting.
        await sleep(gapMs, undefined, { ref: false });
        if (res.destroyed) return;
        if (fail?.at === i) {
          if (fail.how === 'cut') req.socket.destroy();
          if (fail.how === 'error') res.end(`data: ${JSON.stringify({ error: { message: 'Overloaded', type: 'server_error' } })}\n\n`);
          return;
        }
        if (i === tokens.length) break;
        res.write(chunk({ content: tokens[i]! }));
      }
      res.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
    };
    void send();
  };

/** OpenAI's non-streamed answer, or its stream of `text` word by word when the call asked for one. */
const ok =
  (text: string): Script =>
  (req, res, call, asked) => {
    if (asked.stream === true) return streams({ tokens: text.split(/(?= )/) })(req, res, call, asked);
    const message = { role: 'assistant', content: text };
    const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: 'c1',
        object: 'chat.completion',
        model: asked.model,
        choices: [{ index: 0, message, finish_reason: 'stop' }],
        usage,
      }),
    );
  };
const status =
  (code: number, headers: Record<string, string> = {}): Script =>
  (_req, res) =>
    res.writeHead(code, { 'content-type': 'text/plain', ...headers }).end('unavailable');
const hang: Script = () => undefined;
const reset: Script = (req) => req.socket.resetAndDestroy();
const badJson: Script = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": tru');
const noChoices: Script = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"not OpenAI"}');

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

/** Waits up to `ms` for `done` (a provider seeing the gateway close a call: it learns of it a moment later). */
async function closedWithin(ms: number, done: () => boolean): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done() && performance.now() < deadline) await sleep(10);
  expect(done()).toBe(true);
}

/** A caller that sends a request and goes away (closes its connection) after `ms`; resolves once it has. */
async function leaveAfter(url: string, ms: number, stream: boolean): Promise<void> {
  const controller = new AbortController();
  const answered = request(`${url}/v1/complete`, {
    method: 'POST',
    body: JSON.stringify({ prompt: 'hi', stream }),
    signal: controller.signal,
  }).then(
    (response) => response.body.text(),
    () => undefined,
  );
  await sleep(ms);
  controller.abort();
  await answered.catch(() => undefined);
}

/**
 * One streamed completion through the gateway: its status and content-type, its events as written
 * (each event's lines joined with '|'), the tokens put together, and timings as for `complete`.
 */
async function completeStreamed(url: string, prompt = 'hello') {
  const started = performance.now();
  const waited = cpuWait();
  const response = await request(`${url}/v1/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt, stream: true }),
  });
  const text = await response.body.text();
  const events = text
    .split('\n\n')
    .filter((event) => event !== '')
    .map((event) => event.split('\n').join('|'));
  const deltas = events.filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { delta?: string; provider?: string });
  return {
    status: response.statusCode,
    type: response.headers['content-type'],
    text,
    events,
    answer: deltas.map((d) => d.delta ?? '').join(''),
    providers: [...new Set(deltas.map((d) => d.provider))],
    ms: performance.now() - started,
    waitedMs: waited(),
  };
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
    expect(a.asked).toEqual([
      { path: '/v1/chat/completions', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'write a haiku' }], stream: false },
    ]);
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
    const a = await startProvider((req, res, call, asked) =>
      (call === 1 ? status(503, { 'retry-after': '1' }) : ok('from a'))(req, res, call, asked),
    );
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
    const a = await startProvider((req, res, call, asked) =>
      (call === 1 ? status(429, { 'retry-after': '30' }) : ok('from a'))(req, res, call, asked),
    );
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
    ['a 200 without choices[0].message.content', noChoices],
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

  test.each([false, true])(
    'a caller leaving before its answer (stream: %s): the call to A is aborted, no retry and no failover follow',
    async (stream) => {
      const a = await startProvider(hang);
      const b = await startProvider(ok('from b'));
      const gw = await gateway({ callTimeoutMs: 1000, retries: 2 }, a, b);
      const started = performance.now();
      await leaveAfter(gw.url, 100, stream);
      // Aborted within 300 ms of the caller leaving, not when its 1 s timeout is over.
      await closedWithin(300, () => a.abandoned === 1);
      // Past the 1 s timeout (+300 ms): the retry would have called A again by now, then B.
      await sleep(1300 - (performance.now() - started));
      expect({ a: a.calls, b: b.calls }).toEqual({ a: 1, b: 0 });
    },
  );

  test('a caller leaving while the gateway waits out a Retry-After: no retry follows', async () => {
    const a = await startProvider(status(503, { 'retry-after': '1' }));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ retries: 2 }, a, b);
    const started = performance.now();
    await leaveAfter(gw.url, 100, false);
    // The retry was due 1 s after the first call; 300 ms more for timer slack.
    await sleep(1300 - (performance.now() - started));
    expect({ a: a.calls, b: b.calls }).toEqual({ a: 1, b: 0 });
  });

  test("callers leaving are not held against A's breaker", async () => {
    // Two callers leave while A hangs, with a breaker that opens after 2 failures: the third is still served by A.
    const a = await startProvider((req, res, call, asked) => (call <= 2 ? hang : ok('from a'))(req, res, call, asked));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ breakerFailures: 2, callTimeoutMs: 1000 }, a, b);
    await leaveAfter(gw.url, 100, false);
    await leaveAfter(gw.url, 100, false);
    await closedWithin(300, () => a.abandoned === 2);
    expect((await complete(gw.url)).body).toEqual({ result: 'from a', provider: 'a' });
    expect({ a: a.calls, b: b.calls }).toEqual({ a: 3, b: 0 });
  });

  test("a caller leaving during the backoff before A's half-open test call: the test is not spent, the breaker stays open", async () => {
    // Calls 1-3 fail (the 3rd, a 503 with Retry-After: 1, opens the breaker for 500 ms); the 4th attempt, due
    // 1 s later, would be the half-open test call, but the caller left at 200 ms. A caller leaving used to reach
    // the breaker as an error it does not handle, which closes a half-open breaker without A being called.
    const a = await startProvider((req, res, call, asked) =>
      (call <= 2 ? status(500) : call === 3 ? status(503, { 'retry-after': '1' }) : hang)(req, res, call, asked),
    );
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ retries: 3, breakerFailures: 3, breakerCooldownMs: 500, callTimeoutMs: 300 }, a, b);
    const started = performance.now();
    await leaveAfter(gw.url, 200, false);
    expect(a.calls).toBe(3);
    await sleep(1300 - (performance.now() - started)); // the 4th attempt's time is over (+300 ms)
    expect({ a: a.calls, b: b.calls }).toEqual({ a: 3, b: 0 });
    // Still open, cool-down over: of two requests at once, one makes the test call (A hangs: it times out and
    // reopens the breaker), the other waits for it, then both are served by B. A closed breaker would let both call A.
    const both = await Promise.all([complete(gw.url), complete(gw.url)]);
    expect(both.map((res) => res.body.provider)).toEqual(['b', 'b']);
    expect({ a: a.calls, b: b.calls }).toEqual({ a: 4, b: 2 });
  });

  test.each([false, true])(
    "a caller leaving during A's half-open test call (stream: %s): the test runs to its timeout and reopens the breaker",
    async (stream) => {
      const a = await startProvider(status(500));
      const b = await startProvider(ok('from b'));
      const gw = await gateway({ retries: 1, breakerFailures: 2, breakerCooldownMs: 500, callTimeoutMs: 600 }, a, b);
      expect((await complete(gw.url)).body.provider).toBe('b'); // 2 failures: open
      await sleep(600); // cool-down over
      a.script = hang;
      const started = performance.now();
      await leaveAfter(gw.url, 100, stream); // its call to A is the test call
      expect(a.calls).toBe(3);
      // Not aborted when the caller left (100 ms) but at its 600 ms timeout: a failure, the breaker opens again.
      await sleep(400 - (performance.now() - started));
      expect(a.abandoned).toBe(0);
      await closedWithin(600, () => a.abandoned === 1);
      // Open again (the next 500 ms): straight to B, A not called. A closed breaker would send this to A.
      const next = await complete(gw.url);
      expect(next.body.provider).toBe('b');
      expect({ a: a.calls, b: b.calls }).toEqual({ a: 3, b: 2 });
    },
  );

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

describe('LLM gateway (resilient), streamed', () => {
  const error = (message: string, provider = 'a') => `event: error|data: ${JSON.stringify({ error: message, provider })}`;

  test('a caller asking for a stream gets each token as an event, then [DONE]; the provider was asked for a stream', async () => {
    const a = await startProvider(streams({ tokens: ['Hello', ' from', ' A'] }));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({}, a, b);
    const res = await completeStreamed(gw.url, 'write a haiku');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/event-stream');
    expect(res.events).toEqual([
      'data: {"delta":"Hello","provider":"a"}',
      'data: {"delta":" from","provider":"a"}',
      'data: {"delta":" A","provider":"a"}',
      'data: [DONE]',
    ]);
    expect(a.asked).toEqual([
      { path: '/v1/chat/completions', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'write a haiku' }], stream: true },
    ]);
    expect(b.calls).toBe(0);
  });

  test.each([
    ['a 503', status(503)],
    ['a connection reset', reset],
    ['an error event before any token', streams({ tokens: ['x'], fail: { at: 0, how: 'error' } })],
    ['a stream cut before any token', streams({ tokens: ['x'], fail: { at: 0, how: 'cut' } })],
    ['a JSON answer instead of a stream', (req, res, call, asked) => ok('json')(req, res, call, { ...asked, stream: false })],
  ] satisfies Array<[string, Script]>)(
    'before the first token, A failing with %s is retried, then B streams the answer',
    async (_name, script) => {
      const a = await startProvider(script);
      const b = await startProvider(ok('Hello from B'));
      const gw = await gateway({ retries: 2 }, a, b);
      const res = await completeStreamed(gw.url);
      expect({ status: res.status, answer: res.answer, providers: res.providers }).toEqual({
        status: 200,
        answer: 'Hello from B',
        providers: ['b'],
      });
      expect(res.events.at(-1)).toBe('data: [DONE]');
      expect(a.calls).toBe(3);
      expect(b.calls).toBe(1);
    },
  );

  test('a stream that sends its headers and a role chunk but no token within callTimeoutMs is a timeout: retried, then B', async () => {
    const a = await startProvider(streams({ tokens: ['late'], gapMs: 5_000 }));
    const b = await startProvider(ok('Hello from B'));
    const gw = await gateway({ callTimeoutMs: 200, retries: 1 }, a, b);
    const res = await completeStreamed(gw.url);
    expect(res.providers).toEqual(['b']);
    expect(res.answer).toBe('Hello from B');
    expect(a.calls).toBe(2);
    expect(a.abandoned).toBe(2); // both calls to A were closed when they timed out
    // 2 attempts x 200 ms plus a backoff of a few ms.
    expect(res.ms).toBeGreaterThanOrEqual(350);
    expect(res.ms).toBeLessThan(1200 + res.waitedMs);
  });

  test('a 503 with Retry-After: 1 before the first token is waited out like any call', async () => {
    const a = await startProvider((req, res, call, asked) =>
      (call === 1 ? status(503, { 'retry-after': '1' }) : ok('Hello from A'))(req, res, call, asked),
    );
    const b = await startProvider(ok('from b'));
    const gw = await gateway({}, a, b);
    const res = await completeStreamed(gw.url);
    expect(res.providers).toEqual(['a']);
    expect(a.calls).toBe(2);
    expect(res.ms).toBeGreaterThanOrEqual(950);
    expect(res.ms).toBeLessThan(1800 + res.waitedMs);
  });

  test('A cut after its second token: the caller has two tokens from A, then an error event; no retry, no failover', async () => {
    const a = await startProvider(streams({ tokens: ['one', ' two', ' three'], fail: { at: 2, how: 'cut' } }));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ retries: 2 }, a, b);
    const res = await completeStreamed(gw.url);
    expect(res.status).toBe(200);
    expect(res.events).toEqual([
      'data: {"delta":"one","provider":"a"}',
      'data: {"delta":" two","provider":"a"}',
      expect.stringMatching(/^event: error\|data: \{"error":"provider a: stream cut \(.+\)","provider":"a"\}$/),
    ]);
    expect(a.calls).toBe(1);
    expect(b.calls).toBe(0);
  });

  test("A's error event after a token ends the caller's stream with an error event carrying A's message", async () => {
    const a = await startProvider(streams({ tokens: ['one', ' two'], fail: { at: 1, how: 'error' } }));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({}, a, b);
    const res = await completeStreamed(gw.url);
    expect(res.events).toEqual(['data: {"delta":"one","provider":"a"}', error('provider a: error event: Overloaded')]);
    expect(a.calls + b.calls).toBe(1);
  });

  test("A stalling after a token for longer than idleTimeoutMs: an error event once the idle timeout is over; A's call closed", async () => {
    const a = await startProvider(streams({ tokens: ['one', ' two'], fail: { at: 1, how: 'stall' } }));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ idleTimeoutMs: 300, callTimeoutMs: 2000 }, a, b);
    const res = await completeStreamed(gw.url);
    expect(res.events).toEqual(['data: {"delta":"one","provider":"a"}', error('provider a: stalled: no event for 300 ms')]);
    expect(a.calls + b.calls).toBe(1);
    await closedWithin(500, () => a.abandoned === 1);
    // The first token after about 5 ms, then 300 ms of silence.
    expect(res.ms).toBeGreaterThanOrEqual(250);
    expect(res.ms).toBeLessThan(1000 + res.waitedMs);
  });

  test('gaps shorter than idleTimeoutMs are fine, however long the whole answer takes', async () => {
    const tokens = Array.from({ length: 8 }, (_, i) => ` t${i}`);
    const a = await startProvider(streams({ tokens, gapMs: 100 }));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ idleTimeoutMs: 300, callTimeoutMs: 300 }, a, b);
    const res = await completeStreamed(gw.url);
    expect(res.answer).toBe(tokens.join(''));
    expect(res.events.at(-1)).toBe('data: [DONE]');
    expect(res.ms).toBeGreaterThanOrEqual(750);
  });

  test('a caller that goes away mid-stream: the gateway closes its call to A at once, not at its next token', async () => {
    const a = await startProvider(streams({ tokens: ['one', ' two'], gapMs: 1000 }));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ callTimeoutMs: 2000 }, a, b);
    const controller = new AbortController();
    const response = await request(`${gw.url}/v1/complete`, {
      method: 'POST',
      body: JSON.stringify({ prompt: 'hi', stream: true }),
      signal: controller.signal,
    });
    expect(response.statusCode).toBe(200); // the first token came after 1 s; the second would come 1 s later
    controller.abort();
    await response.body.text().catch(() => undefined);
    await closedWithin(300, () => a.abandoned === 1);
  });

  test("the caller's stream ends at [DONE], however long the provider keeps its connection open after it", async () => {
    const a = await startProvider((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`${chunk({ content: 'one' })}${chunk({ content: ' two' })}data: [DONE]\n\n`); // and the body never ends
    });
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ idleTimeoutMs: 1000 }, a, b);
    const res = await completeStreamed(gw.url);
    expect(res.answer).toBe('one two');
    expect(res.events.at(-1)).toBe('data: [DONE]');
    // Not the 1 s idle timeout: the answer was complete after a few ms.
    expect(res.ms).toBeLessThan(500 + res.waitedMs);
    // The rest of A's body was waited for in the background, for the idle timeout, then the call closed.
    expect(a.abandoned).toBe(0);
    await closedWithin(1500, () => a.abandoned === 1);
  });

  test('a provider line over 64 Ki characters is a failed call, before and after the first token', async () => {
    const huge = `data: {"choices":[{"delta":{"content":"${'x'.repeat(70 * 1024)}"}}]}\n\n`;
    const a = await startProvider((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(huge); // and nothing more: the call ends only when the gateway gives up on it
    });
    const b = await startProvider(status(500));
    const gw = await gateway({ retries: 0, callTimeoutMs: 2000 }, a, b);
    const before = await completeStreamed(gw.url);
    expect(before.status).toBe(503);
    expect(JSON.parse(before.text)).toEqual({
      error: 'provider a: provider a: stream line over 64 Ki characters; provider b: provider b: status 500',
      provider: null,
    });
    expect(before.ms).toBeLessThan(1000 + before.waitedMs); // failed on the line, not at the 2 s call timeout

    a.script = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ content: 'one' }));
      setTimeout(() => res.write(huge), 20);
    };
    const after = await completeStreamed(gw.url);
    expect(after.events).toEqual(['data: {"delta":"one","provider":"a"}', error('provider a: stream line over 64 Ki characters')]);
    await closedWithin(300, () => a.abandoned === 2);
  });

  test('both providers failing before the first token: a plain 503 JSON, as without a stream', async () => {
    const a = await startProvider(status(500));
    const b = await startProvider(streams({ tokens: ['x'], fail: { at: 0, how: 'error' } }));
    const gw = await gateway({}, a, b);
    const res = await completeStreamed(gw.url);
    expect(res.status).toBe(503);
    expect(res.type).toBe('application/json');
    expect(JSON.parse(res.text)).toEqual({
      error: 'provider a: provider a: status 500; provider b: provider b: error event: Overloaded',
      provider: null,
    });
  });

  test('"stream" must be a boolean', async () => {
    const a = await startProvider(ok('from a'));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({}, a, b);
    const bad = await request(`${gw.url}/v1/complete`, { method: 'POST', body: '{"prompt":"hi","stream":"yes"}' });
    expect(bad.statusCode).toBe(400);
    expect(await bad.body.json()).toEqual({
      error: 'body must be JSON: {"prompt": "...", "stream": true|false (optional)}',
      provider: null,
    });
    expect(a.calls).toBe(0);
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

  test('a caller leaving before its answer: the call to A is aborted and not retried', async () => {
    const a = await startProvider(hang);
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ naive: true }, a, b);
    await leaveAfter(gw.url, 100, false);
    await closedWithin(300, () => a.abandoned === 1); // not after the naive 10 s timeout
    await sleep(200);
    expect(a.calls).toBe(1); // the 3 immediate retries would have followed at once
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

  test('streamed: A failing before the first token is called 4 times, then a 502; after it, an error event', async () => {
    const a = await startProvider(status(503, { 'retry-after': '1' }));
    const b = await startProvider(ok('from b'));
    const gw = await gateway({ naive: true }, a, b);
    const failed = await completeStreamed(gw.url);
    expect(failed.status).toBe(502);
    expect(a.calls).toBe(4);
    a.script = streams({ tokens: ['one', ' two'], fail: { at: 1, how: 'cut' } });
    const cut = await completeStreamed(gw.url);
    expect(cut.events).toEqual([
      'data: {"delta":"one","provider":"a"}',
      expect.stringMatching(/^event: error\|data: \{"error":"provider a: stream cut/),
    ]);
    a.script = ok('Hello from A');
    expect((await completeStreamed(gw.url)).answer).toBe('Hello from A');
    expect(a.calls).toBe(6);
    expect(b.calls).toBe(0);
  });
});

describe("the gateway's event reader", () => {
  async function* pieces(texts: string[]): AsyncGenerator<Buffer> {
    for (const text of texts) yield Buffer.from(text);
  }
  const read = async (texts: string[]) => {
    const events = [];
    for await (const event of readEvents(pieces(texts))) events.push(event);
    return events;
  };

  test('events split anywhere, with LF, CRLF or CR line ends (a CRLF split between chunks too), comments and names', async () => {
    const body = ': hi\r\ndata: one\r\n\r\nevent: error\rdata: {"a":\ndata:  2}\n\ndata\n\nid: 7\n\ndata: cut';
    const expected = [{ data: 'one' }, { event: 'error', data: '{"a":\n 2}' }, { data: '' }];
    expect(await read([body])).toEqual(expected);
    expect(await read([...body])).toEqual(expected); // one character a chunk
    expect(await read(['data: x\r', '\n', '\r', '\ndata: y\r', '\r'])).toEqual([{ data: 'x' }, { data: 'y' }]);
  });

  test('linear time: a 60 Ki-character line sent one character a chunk is read in well under a second', async () => {
    // Searching the whole pending text for a line end at every chunk took seconds here (quadratic).
    const texts = [...`data: ${'x'.repeat(60 * 1024)}\n\n`];
    const started = performance.now();
    const waited = cpuWait();
    expect((await read(texts))[0]!.data.length).toBe(60 * 1024);
    expect(performance.now() - started).toBeLessThan(500 + waited());
  });

  test('a line or an event over 64 Ki characters throws, without holding more than that', async () => {
    await expect(read(['data: ', 'x'.repeat(65 * 1024)])).rejects.toThrow('stream line over 64 Ki characters');
    const lines = Array.from({ length: 70 }, () => `data: ${'x'.repeat(1000)}\n`).join('');
    await expect(read([lines])).rejects.toThrow('stream event over 64 Ki characters');
  });
});
