import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosProxy } from '../src/proxy/chaos-proxy.js';
import { startChaosProxy, type ProxyOptions } from '../src/proxy/proxy.js';
import { outputMatches, runCli } from './helpers/cli.js';
import { startServer } from './helpers/servers.js';
import { postForEvents, type StreamOutcome } from './helpers/sse.js';

// Faults shaped like a provider's (status:CODE with an api, stream-error:N, stall:DUR[@N]) as a
// client sees them over real sockets: on a preset mock's stream, on a replayed one, on a live upstream.

/** Timing tolerance: an event may come this much later than due (plus what other processes took of the CPU), 5 ms sooner. */
const LATE_MS = 60;
const EARLY_MS = 5;

const proxies: ChaosProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

async function start(options: ProxyOptions): Promise<ChaosProxy> {
  const proxy = await startChaosProxy({ seed: 1, ...options });
  proxies.push(proxy);
  return proxy;
}

const CHAT = { model: 'm-1', messages: [{ role: 'user', content: 'Hi' }] };
const STREAM = { ...CHAT, stream: true };

function expectDue(outcome: StreamOutcome, index: number, dueMs: number): void {
  const at = outcome.events[index]!.atMs;
  expect([index, at]).toEqual([index, expect.any(Number)]);
  expect(at).toBeGreaterThanOrEqual(dueMs - EARLY_MS);
  expect(at).toBeLessThanOrEqual(dueMs + LATE_MS + outcome.waitedMs);
}

describe('status:CODE with an api: the provider error JSON and headers', () => {
  test('OpenAI 429: retry-after, retry-after-ms, x-ratelimit-*; 500 and 503 their own JSON', async () => {
    const p = await start({ mock: { preset: 'openai' }, faults: 'status:429', retryAfter: 3 });
    const limited = await postForEvents(`${p.url}/v1/chat/completions`, CHAT);
    expect(limited.status).toBe(429);
    expect(limited.headers).toMatchObject({
      'retry-after': '3',
      'retry-after-ms': '3000',
      'x-ratelimit-limit-requests': expect.stringMatching(/^\d+$/),
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '3s',
      'x-ratelimit-limit-tokens': expect.stringMatching(/^\d+$/),
      'x-ratelimit-remaining-tokens': expect.stringMatching(/^\d+$/),
      'x-ratelimit-reset-tokens': expect.any(String),
    });
    expect(JSON.parse(limited.body)).toEqual({
      error: { message: expect.stringContaining('Rate limit'), type: 'requests', param: null, code: 'rate_limit_exceeded' },
    });
    for (const [code, type] of [
      [500, 'server_error'],
      [503, 'server_error'],
    ] as const) {
      const q = await start({ mock: { preset: 'openai' }, faults: `status:${code}` });
      const answer = await postForEvents(`${q.url}/v1/chat/completions`, CHAT);
      expect(answer.status).toBe(code);
      expect(JSON.parse(answer.body)).toEqual({ error: { message: expect.any(String), type, param: null, code: null } });
      expect(answer.headers['retry-after']).toBe(code === 503 ? '1' : undefined);
      expect(answer.headers['x-ratelimit-remaining-requests']).toBeUndefined();
    }
  });

  test('Anthropic 429: retry-after, anthropic-ratelimit-*; 529 overloaded_error; 500 api_error', async () => {
    const p = await start({ mock: { preset: 'anthropic' }, faults: 'status:429', retryAfter: 2 });
    const limited = await postForEvents(`${p.url}/v1/messages`, CHAT);
    expect(limited.status).toBe(429);
    expect(limited.headers).toMatchObject({
      'retry-after': '2',
      'anthropic-ratelimit-requests-limit': expect.stringMatching(/^\d+$/),
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      'anthropic-ratelimit-tokens-limit': expect.stringMatching(/^\d+$/),
    });
    expect(limited.headers['retry-after-ms']).toBeUndefined();
    expect(JSON.parse(limited.body)).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', message: expect.any(String) } });
    for (const [code, type, retryAfter] of [
      [529, 'overloaded_error', '1'],
      [500, 'api_error', undefined],
    ] as const) {
      const q = await start({ mock: { preset: 'anthropic' }, faults: `status:${code}` });
      const answer = await postForEvents(`${q.url}/v1/messages`, CHAT);
      expect(answer.status).toBe(code);
      expect(JSON.parse(answer.body)).toMatchObject({ type: 'error', error: { type } });
      expect(answer.headers['retry-after']).toBe(retryAfter);
    }
  });

  test("a 529's status line says Overloaded (Node knows no reason for it); each injected error has its own request id", async () => {
    const anthropic = await start({ mock: { preset: 'anthropic' }, faults: 'status:529' });
    const first = await postForEvents(`${anthropic.url}/v1/messages`, CHAT);
    const second = await postForEvents(`${anthropic.url}/v1/messages`, CHAT);
    expect([first.status, first.statusMessage]).toEqual([529, 'Overloaded']);
    expect(first.headers['request-id']).toMatch(/^req_resil_\d{6}$/);
    expect(second.headers['request-id']).not.toBe(first.headers['request-id']);
    expect(JSON.parse(first.body).request_id).toBe(first.headers['request-id']);
    const openai = await start({ mock: { preset: 'openai' }, faults: 'status:429=1,status:599=1' });
    const ids = new Set<unknown>();
    for (let i = 0; i < 6; i++) {
      const answer = await postForEvents(`${openai.url}/v1/chat/completions`, CHAT);
      expect(answer.statusMessage).toBe(answer.status === 429 ? 'Too Many Requests' : 'Server Error');
      ids.add(answer.headers['x-request-id']);
    }
    expect(ids.size).toBe(6);
  });

  test("the proxy's start line names the api of an upstream", async () => {
    const run = await runCli(['proxy', '--upstream', 'http://127.0.0.1:1', '--api', 'anthropic', '--listen', '127.0.0.1:0'], {
      onStart: (child) => void outputMatches(child, /listening on/, 'stdout').then(() => child.kill('SIGINT')),
    });
    expect(run.stdout).toMatch(/→ http:\/\/127\.0\.0\.1:1\/ \(api anthropic\) · seed/);
  });

  test('--api on a live upstream shapes the errors; without it they stay generic', async () => {
    const upstream = await startServer((_req, res) => res.end('{}'));
    try {
      const shaped = await start({ upstream: upstream.url, api: 'anthropic', faults: 'status:529' });
      expect(JSON.parse((await postForEvents(`${shaped.url}/v1/messages`, CHAT)).body).error.type).toBe('overloaded_error');
      const plain = await start({ upstream: upstream.url, faults: 'status:429' });
      expect(JSON.parse((await postForEvents(`${plain.url}/v1/messages`, CHAT)).body).error.type).toBe('injected_fault');
    } finally {
      await upstream.close();
    }
  });
});

describe('stream-error:N', () => {
  test('OpenAI: N events, then a data event with an error object when the next was due, then a clean end', async () => {
    const p = await start({ mock: { preset: 'openai', tokens: 6, tokensPerS: 20 }, faults: 'stream-error:3' });
    const answer = await postForEvents(`${p.url}/v1/chat/completions`, STREAM);
    expect(answer.status).toBe(200);
    expect(answer.error).toBeUndefined();
    expect(answer.events).toHaveLength(4);
    expect(answer.events.slice(0, 3).every((e) => JSON.parse(e.data).object === 'chat.completion.chunk')).toBe(true);
    expect(JSON.parse(answer.events[3]!.data)).toEqual({
      error: { message: expect.any(String), type: 'server_error', param: null, code: null },
    });
    // Events: role and token 1 at 0 ms, token 2 at 50, token 3 (the error's place) at 100.
    expectDue(answer, 2, 50);
    expectDue(answer, 3, 100);
  });

  test('Anthropic: event: error with overloaded_error', async () => {
    const p = await start({ mock: { preset: 'anthropic', tokens: 4, tokensPerS: 1000 }, faults: 'stream-error:4' });
    const answer = await postForEvents(`${p.url}/v1/messages`, STREAM);
    expect(answer.error).toBeUndefined();
    expect(answer.events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'ping', 'content_block_delta', 'error']);
    expect(JSON.parse(answer.events[4]!.data)).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  test('without an api, on a live upstream answering whole: a generic event: error after N events', async () => {
    const upstream = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: 1\n\ndata: 2\n\ndata: 3\n\n');
    });
    try {
      const p = await start({ upstream: upstream.url, faults: 'stream-error:1' });
      const answer = await postForEvents(`${p.url}/events`, {});
      expect(answer.error).toBeUndefined();
      expect(answer.events.map((e) => [e.event, e.data])).toEqual([
        [undefined, '1'],
        ['error', JSON.stringify({ error: { type: 'injected_fault', message: 'resil injected stream error' } })],
      ]);
    } finally {
      await upstream.close();
    }
  });

  test('an answer that is no event stream passes unchanged', async () => {
    const p = await start({ mock: { preset: 'openai', tokens: 2, tokensPerS: 1000 }, faults: 'stream-error:1' });
    const answer = await postForEvents(`${p.url}/v1/chat/completions`, CHAT);
    expect(JSON.parse(answer.body).object).toBe('chat.completion');
  });
});

describe('stall:DUR[@N]', () => {
  test('after N events the stream stops for DUR, then goes on with its own pace', async () => {
    const p = await start({ mock: { preset: 'openai', tokens: 4, tokensPerS: 20 }, faults: 'stall:300ms@3' });
    const answer = await postForEvents(`${p.url}/v1/chat/completions`, STREAM);
    expect(answer.error).toBeUndefined();
    // Due without the stall: 0, 0, 50, 100, 150, 150, 150 ms; from the 4th event on 300 ms later.
    expect(answer.events).toHaveLength(7);
    expectDue(answer, 2, 50);
    expectDue(answer, 3, 400);
    expectDue(answer, 4, 450);
    expect(answer.events.at(-1)!.data).toBe('[DONE]');
  });

  test('by default after half the events (Anthropic: 9 events, so after 4)', async () => {
    const p = await start({ mock: { preset: 'anthropic', tokens: 3, tokensPerS: 1000 }, faults: 'stall:250ms' });
    const answer = await postForEvents(`${p.url}/v1/messages`, STREAM);
    expect(answer.events).toHaveLength(9);
    expectDue(answer, 3, 0);
    expectDue(answer, 4, 251);
  });

  test('a live upstream answering whole: the stall comes between its events', async () => {
    const upstream = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: 1\n\ndata: 2\n\n');
    });
    try {
      const p = await start({ upstream: upstream.url, faults: 'stall:200ms' });
      const answer = await postForEvents(`${p.url}/events`, {});
      expect(answer.events.map((e) => e.data)).toEqual(['1', '2']);
      expect(answer.events[1]!.atMs - answer.events[0]!.atMs).toBeGreaterThanOrEqual(200 - EARLY_MS);
    } finally {
      await upstream.close();
    }
  });
});

describe('stream faults on a live upstream that paces its events', () => {
  /** An upstream streaming `data: 0` … `data: 4`, one event every 80 ms from its headers on. */
  function pacedUpstream() {
    return startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
      let i = 0;
      const timer = setInterval(() => {
        res.write(`data: ${i}\n\n`);
        if (++i === 5) {
          clearInterval(timer);
          res.end();
        }
      }, 80);
    });
  }

  test('the stream keeps its pace: the fault waits for it whole (its first byte after the last event), then sends it paced', async () => {
    const upstream = await pacedUpstream();
    try {
      const stalled = await start({ upstream: upstream.url, faults: 'stall:200ms@2' });
      const answer = await postForEvents(`${stalled.url}/events`, {});
      expect(answer.events.map((e) => e.data)).toEqual(['0', '1', '2', '3', '4']);
      // The headers once the upstream's last event is in (400 ms after its headers).
      expect(answer.headersMs).toBeGreaterThanOrEqual(400 - EARLY_MS);
      // Then each event when it came from the upstream (80, 160, … ms), the third on 200 ms later.
      // Tolerance on each gap: 15 ms short (the upstream's own timer jitters too), 60 ms long (plus what other processes took of the CPU).
      const gap = (i: number) => answer.events[i]!.atMs - answer.events[i - 1]!.atMs;
      for (const [i, dueMs] of [
        [1, 80],
        [2, 280],
        [3, 80],
        [4, 80],
      ] as const) {
        expect([i, gap(i)]).toEqual([i, expect.any(Number)]);
        expect(gap(i)).toBeGreaterThanOrEqual(dueMs - EARLY_MS - 10);
        expect(gap(i)).toBeLessThanOrEqual(dueMs + LATE_MS + answer.waitedMs);
      }

      const failing = await start({ upstream: upstream.url, faults: 'stream-error:3' });
      const broken = await postForEvents(`${failing.url}/events`, {});
      expect(broken.events.map((e) => e.event ?? e.data)).toEqual(['0', '1', '2', 'error']);
      // The error where the fourth event came (80 ms after the third).
      expect(broken.events[3]!.atMs - broken.events[2]!.atMs).toBeGreaterThanOrEqual(80 - EARLY_MS - 10);
    } finally {
      await upstream.close();
    }
  });
});

describe('a stream fault that does not apply is not counted as injected', () => {
  test('stream-error on answers that are no stream, stall on a one-event stream: counted as notApplicable', async () => {
    const p = await start({ mock: { preset: 'openai', tokens: 2, tokensPerS: 1000 }, faults: 'stream-error:1' });
    for (let i = 0; i < 3; i++)
      expect(JSON.parse((await postForEvents(`${p.url}/v1/chat/completions`, CHAT)).body).object).toBe('chat.completion');
    for (let i = 0; i < 2; i++) {
      const broken = await postForEvents(`${p.url}/v1/chat/completions`, STREAM);
      expect(JSON.parse(broken.events.at(-1)!.data).error.type).toBe('server_error');
    }
    expect(p.stats()).toMatchObject({ calls: 5, injected: { 'stream-error:1': 2 }, notApplicable: { 'stream-error:1': 3 } });

    const upstream = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: only\n\n'));
    try {
      const q = await start({ upstream: upstream.url, faults: 'stall:300ms' });
      for (let i = 0; i < 2; i++) {
        const answer = await postForEvents(`${q.url}/events`, {});
        expect(answer.events.map((e) => e.data)).toEqual(['only']);
        // Not held: well below the 300 ms stall (tolerance 150 ms, plus what other processes took of the CPU).
        expect(answer.elapsedMs).toBeLessThan(150 + answer.waitedMs);
      }
      expect(q.stats()).toMatchObject({ calls: 2, injected: {}, notApplicable: { 'stall:300ms': 2 } });
    } finally {
      await upstream.close();
    }
  });

  test('resil chaos says so in a warning; its JSON counts them apart', async () => {
    const args = ['chaos', '--mock', 'openai', '-m', 'POST', '--body', '{"model":"m"}', '-n', '3', '-c', '1'];
    const run = await runCli([...args, '--faults', 'stream-error:1', '--failure-rate', '1', '--mock-tokens-per-s', '1000']);
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/3 faults did not apply to the answer, which passed unchanged, .*: stream-error:1 3/);
    const json = await runCli([...args, '--faults', 'stream-error:1', '--failure-rate', '1', '--mock-tokens-per-s', '1000', '--json']);
    expect(JSON.parse(json.stdout).faults.providers.dependency).toMatchObject({ injected: {}, notApplicable: { 'stream-error:1': 3 } });
  }, 30_000);
});

describe('truncate:Nevents on a preset stream', () => {
  test('the first N events with their timing, then the connection closes mid-answer', async () => {
    const p = await start({ mock: { preset: 'openai', tokens: 5, tokensPerS: 20 }, faults: 'truncate:3events' });
    const answer = await postForEvents(`${p.url}/v1/chat/completions`, STREAM);
    expect(answer.events).toHaveLength(3);
    expect(answer.error).toBeDefined();
    expectDue(answer, 2, 50);
  });
});

describe('record and replay on top of a preset', () => {
  test('a streamed preset answer recorded through --record replays with its timing, and takes faults', async () => {
    const har = join(mkdtempSync(join(tmpdir(), 'resil-preset-')), 'llm.har');
    const provider = await start({ mock: { preset: 'anthropic', tokens: 4, tokensPerS: 20, ttft: '100ms' } });
    const recorder = await start({ upstream: provider.url, record: har });
    const live = await postForEvents(`${recorder.url}/v1/messages`, STREAM);
    await recorder.close();
    expect(live.events).toHaveLength(10);

    const replay = await start({ replay: har, api: 'anthropic' });
    const played = await postForEvents(`${replay.url}/v1/messages`, STREAM);
    expect(played.body).toBe(live.body);
    // Recorded: first token at 100 ms, then every 50 ms; the last event at 250 ms.
    expectDue(played, 3, 100);
    expectDue(played, 9, 250);

    const failing = await start({ replay: har, api: 'anthropic', faults: 'stream-error:5' });
    const broken = await postForEvents(`${failing.url}/v1/messages`, STREAM);
    expect(broken.events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'error',
    ]);
    // The error where the third token was recorded (200 ms).
    expectDue(broken, 5, 200);

    const stalled = await start({ replay: har, faults: 'stall:300ms@4' });
    const slow = await postForEvents(`${stalled.url}/v1/messages`, STREAM);
    expect(slow.body).toBe(live.body);
    expectDue(slow, 4, 450);
  });
});

describe('bad fault arguments', () => {
  test.each([
    ['stream-error', /^resil: --faults: fault 'stream-error:': the argument is the number of events sent before the error/],
    ['stream-error:x', /^resil: --faults: fault 'stream-error:x': the argument is the number of events/],
    ['stall:soon', /^resil: --faults: fault 'stall:soon': expected a duration and optionally @N events before it/],
    ['stall:1s@0', /^resil: --faults: fault 'stall:1s@0': expected a duration/],
  ])('%s: one line, exit 2', async (faults, message) => {
    const run = await runCli(['chaos', '--mock', 'openai', '--faults', faults, '-n', '1']);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.code).toBe(2);
  });
});
