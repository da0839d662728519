import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosProxy } from '../src/proxy/chaos-proxy.js';
import { startChaosProxy, type ProxyOptions } from '../src/proxy/proxy.js';
import { withBareValues } from '../src/cli/option-flags.js';
import { parseCampaign } from '../src/campaign/load.js';
import { UsageError } from '../src/errors.js';
import { PROVIDER_NAMES } from '../src/proxy/providers/provider.js';
import { MOCK_PRESET_PATTERN } from '../src/util/schema-patterns.js';
import { BIN, outputMatches, runCli, userEnv } from './helpers/cli.js';
import { postForEvents, type StreamOutcome } from './helpers/sse.js';

// The provider presets of the mock (--mock openai, --mock anthropic) as a client sees them over real
// sockets: each provider's wire format, the request's model echoed, usage, and the stream's pace.

/** Timing tolerance: an event may come this much later than due (plus what other processes took of the CPU), 5 ms sooner. */
const LATE_MS = 60;
const EARLY_MS = 5;

let proxy: ChaosProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function mock(preset: 'openai' | 'anthropic', settings: Record<string, unknown> = {}, rest: ProxyOptions = {}): Promise<ChaosProxy> {
  proxy = await startChaosProxy({ mock: { preset, ...settings }, seed: 1, ...rest });
  return proxy;
}

/** Each event at its due time (ms after the headers), within the tolerance. */
function expectPaced(outcome: StreamOutcome, dueMs: readonly number[]): void {
  expect(outcome.events.length).toBe(dueMs.length);
  outcome.events.forEach((event, i) => {
    expect([i, event.atMs]).toEqual([i, expect.any(Number)]);
    expect(event.atMs).toBeGreaterThanOrEqual(dueMs[i]! - EARLY_MS);
    expect(event.atMs).toBeLessThanOrEqual(dueMs[i]! + LATE_MS + outcome.waitedMs);
  });
}

const MESSAGES = [{ role: 'user', content: 'Say hello.' }];

describe('--mock openai', () => {
  test('a chat completion: the model echoed, the usage filled, once the last token would have come', async () => {
    const p = await mock('openai', { tokens: 5, tokensPerS: 50, ttft: '100ms' });
    const answer = await postForEvents(`${p.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: MESSAGES });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    const body = JSON.parse(answer.body);
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the resil mock' }, finish_reason: 'stop' }],
      usage: { completion_tokens: 5 },
    });
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + 5);
    // ttft 100 ms + 4 gaps of 20 ms: the whole answer comes at 180 ms.
    expect(answer.headersMs).toBeGreaterThanOrEqual(180 - EARLY_MS);
    expect(answer.headersMs).toBeLessThanOrEqual(180 + LATE_MS + answer.waitedMs);
  });

  test('"stream": true: chat.completion.chunk events, one per token at tokensPerS after ttft, then [DONE]', async () => {
    const p = await mock('openai', { tokens: 4, tokensPerS: 20, ttft: '150ms', latency: '30ms' });
    const answer = await postForEvents(`${p.url}/v1/chat/completions`, {
      model: 'gpt-test',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream');
    expect(answer.headers['content-length']).toBeUndefined();
    expect(answer.headersMs).toBeGreaterThanOrEqual(30 - EARLY_MS);
    const chunks = answer.events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(answer.events.at(-1)!.data).toBe('[DONE]');
    expect(answer.events.every((e) => e.event === undefined)).toBe(true);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'gpt-test' && c.id === chunks[0].id)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '', refusal: null },
      { content: 'Hello' },
      { content: ' from' },
      { content: ' the' },
      { content: ' resil' },
      {},
      undefined,
    ]);
    expect(chunks[5].choices[0].finish_reason).toBe('stop');
    expect(chunks[6]).toMatchObject({ choices: [], usage: { completion_tokens: 4 } });
    expect(chunks.slice(0, 6).every((c) => c.usage === null)).toBe(true);
    // Role chunk and first token at ttft (150 ms), a token every 50 ms, the closing chunks with the last.
    expectPaced(answer, [150, 150, 200, 250, 300, 300, 300, 300]);
  });

  test('without include_usage the chunks carry no usage (as OpenAI streams)', async () => {
    const p = await mock('openai', { tokens: 2, tokensPerS: 1000 });
    const answer = await postForEvents(`${p.url}/v1/chat/completions`, { model: 'm', messages: MESSAGES, stream: true });
    expect(answer.events.map((e) => (e.data === '[DONE]' ? 'DONE' : 'usage' in JSON.parse(e.data)))).toEqual([
      false,
      false,
      false,
      false,
      'DONE',
    ]);
  });

  test('other paths get a 404, a body without a model a 400, both in OpenAI error JSON', async () => {
    const p = await mock('openai');
    const missing = await postForEvents(`${p.url}/v1/embeddings`, { model: 'm' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({
      error: { message: 'Invalid URL (POST /v1/embeddings)', type: 'invalid_request_error', param: null, code: null },
    });
    const bad = await postForEvents(`${p.url}/v1/chat/completions`, '{"messages": [');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.type).toBe('invalid_request_error');
    const noModel = await postForEvents(`${p.url}/chat/completions`, { messages: MESSAGES });
    expect(noModel.status).toBe(400);
  });
});

describe('--mock anthropic', () => {
  test('a message: the model echoed, the usage filled', async () => {
    const p = await mock('anthropic', { tokens: 3, tokensPerS: 1000 });
    const answer = await postForEvents(`${p.url}/v1/messages`, { model: 'claude-test', max_tokens: 64, messages: MESSAGES });
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.body);
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      content: [{ type: 'text', text: 'Hello from the' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { output_tokens: 3 },
    });
    expect(body.id).toMatch(/^msg_/);
    expect(body.usage.input_tokens).toBeGreaterThan(0);
  });

  test('"stream": true: message_start … content_block_delta per token … message_stop, paced', async () => {
    const p = await mock('anthropic', { tokens: 3, tokensPerS: 25, ttft: '100ms' });
    const answer = await postForEvents(`${p.url}/v1/messages`, { model: 'claude-test', max_tokens: 64, messages: MESSAGES, stream: true });
    expect(answer.headers['content-type']).toBe('text/event-stream');
    expect(answer.events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const data = answer.events.map((e) => JSON.parse(e.data));
    expect(data.map((d) => d.type)).toEqual(answer.events.map((e) => e.event));
    expect(data[0].message).toMatchObject({ model: 'claude-test', content: [], usage: { output_tokens: 1 } });
    expect(data[0].message.usage.input_tokens).toBeGreaterThan(0);
    expect(data.slice(3, 6).map((d) => d.delta)).toEqual([
      { type: 'text_delta', text: 'Hello' },
      { type: 'text_delta', text: ' from' },
      { type: 'text_delta', text: ' the' },
    ]);
    expect(data[7]).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } });
    // The opening events with the first token at ttft (100 ms), then every 40 ms; closing with the last.
    expectPaced(answer, [100, 100, 100, 100, 140, 180, 180, 180, 180]);
  });

  test('other paths get a 404 in Anthropic error JSON', async () => {
    const p = await mock('anthropic');
    const missing = await postForEvents(`${p.url}/v1/chat/completions`, { model: 'm' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });
});

describe('the command line', () => {
  test('--mock takes a preset as its value; bare, it stays the generic mock (before a flag, a URL or the end)', () => {
    const bare = new Map([['mock', 'generic']]);
    expect(withBareValues(['--mock'], bare)).toEqual(['--mock=generic']);
    expect(withBareValues(['--mock', '--listen', ':0'], bare)).toEqual(['--mock=generic', '--listen', ':0']);
    expect(withBareValues(['--mock', 'http://127.0.0.1:1/'], bare)).toEqual(['--mock=generic', 'http://127.0.0.1:1/']);
    expect(withBareValues(['--mock', 'openai', '-n', '1'], bare)).toEqual(['--mock', 'openai', '-n', '1']);
    expect(withBareValues(['--mock=anthropic'], bare)).toEqual(['--mock=anthropic']);
    expect(withBareValues(['--', '--mock'], bare)).toEqual(['--', '--mock']);
  });

  test('resil proxy --mock anthropic serves the Anthropic preset', async () => {
    const child = spawn(process.execPath, [BIN, 'proxy', '--mock', 'anthropic', '--mock-tokens', '2', '--listen', '127.0.0.1:0'], {
      env: userEnv(),
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    try {
      expect(await outputMatches(child, /listening on http:\/\/127\.0\.0\.1:\d+/, 'stdout')).toBe(true);
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1];
      const answer = await postForEvents(`${url}/v1/messages`, { model: 'claude-cli', messages: MESSAGES, stream: true });
      expect(answer.events.filter((e) => e.event === 'content_block_delta')).toHaveLength(2);
      expect(JSON.parse(answer.events[0]!.data).message.model).toBe('claude-cli');
    } finally {
      child.kill('SIGINT');
    }
  });

  test('resil chaos --mock openai in policy mode calls the chat endpoint', async () => {
    const run = await runCli(
      ['chaos', '--mock', 'openai', '-m', 'POST', '--body', '{"model":"m"}', '-n', '4', '-c', '1', '--mock-tokens-per-s', '1000', '--json'],
      { timeoutMs: 30_000 },
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).statusCodes).toEqual({ 200: 4 });
  }, 30_000);

  test('RESIL_MOCK=true (as when --mock was a boolean) is the generic mock, RESIL_MOCK=anthropic the preset', async () => {
    const generic = await runCli(['chaos', '-n', '2', '-c', '1', '--json'], { env: { RESIL_MOCK: 'true' } });
    expect(JSON.parse(generic.stdout).statusCodes).toEqual({ 200: 2 });
    const preset = await runCli(['chaos', '-n', '2', '-c', '1', '--json', '-m', 'POST', '--body', '{}'], {
      env: { RESIL_MOCK: 'anthropic' },
    });
    // A body without a model: Anthropic's 400, from the preset at /v1/messages.
    expect(JSON.parse(preset.stdout).statusCodes).toEqual({ 400: 2 });
  }, 30_000);

  test('RESIL_MOCK takes the words a boolean takes: a true word is the generic mock, a false word no mock', async () => {
    for (const word of ['1', 'yes', 'ON']) {
      const run = await runCli(['chaos', '-n', '1', '-c', '1', '--json'], { env: { RESIL_MOCK: word } });
      expect([word, run.code, JSON.parse(run.stdout).statusCodes]).toEqual([word, 0, { 200: 1 }]);
    }
    for (const word of ['false', '0', 'no', 'off']) {
      const run = await runCli(['chaos', '-n', '1', '-c', '1'], { env: { RESIL_MOCK: word } });
      expect([word, run.code, run.stderr]).toEqual([word, 2, expect.stringMatching(/^resil: .*give the proxy an --upstream URL, --mock/)]);
    }
  }, 60_000);

  test.each([
    [['proxy', '--mock', 'opnai'], /^resil: --mock 'opnai': not a preset \(known: openai, anthropic; bare --mock is the generic mock\)\n$/],
    [['proxy', '--upstream', 'http://127.0.0.1:1', '--api', 'gemini'], /^resil: --api 'gemini': expected openai or anthropic\n$/],
    [['proxy', '--mock', 'openai', '--api', 'anthropic'], /^resil: --api anthropic contradicts --mock openai/],
    [['proxy', '--mock', 'openai', '--mock-tokens-per-s', 'fast'], /^resil: --mock-tokens-per-s 'fast': expected a number above 0\n$/],
    [['proxy', '--mock', 'anthropic', '--mock-ttft', 'soon'], /^resil: --mock-ttft: 'soon' is not a duration\n$/],
    [['proxy', '--mock', 'anthropic', '--mock-tokens', '0'], /^resil: --mock-tokens: '0' must be a whole number from 1 to 100000\n$/],
    [
      ['proxy', '--mock', 'openai', '--mock-tokens', '5000000000'],
      /^resil: --mock-tokens: '5000000000' must be a whole number from 1 to 100000\n$/,
    ],
    [['proxy', '--mock', 'openai', '--mock-ttft', '700h'], /^resil: --mock-ttft: '700h' is longer than 24h\n$/],
    [
      ['proxy', '--mock', 'openai', '--mock-tokens-per-s', '0.0001'],
      /^resil: --mock-tokens-per-s: '0.0001': 12 tokens would take longer than 24h\n$/,
    ],
    [['proxy', '--mock', '--mock-latency', '25h'], /^resil: --mock-latency: '25h' is longer than 24h\n$/],
    [['proxy', '--mock', 'openai', '--faults', 'stall:25h'], /^resil: --faults: fault 'stall:25h': the stall is longer than 24h\n$/],
    [['proxy', '--mock', '--mock-tokens', '3'], /^resil: --mock-tokens sets a preset's answers: give --mock openai or --mock anthropic\n$/],
    [['proxy', '--upstream', 'http://127.0.0.1:1', '--mock-ttft', '1s'], /^resil: --mock-ttft sets a preset's answers: give --mock openai/],
    [['chaos', '--mock', '-n', '1', '--mock-tokens-per-s', '9'], /^resil: --mock-tokens-per-s sets a preset's answers/],
    [['proxy', '--mock', 'openai', '--mock-body', '{}'], /^resil: --mock-body: a preset \(openai\) writes its own answers\n$/],
  ])('bad input %j: one line, exit 2', async (args, message) => {
    const run = await runCli(args);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
  });
});

describe('a campaign file', () => {
  test('mock: { preset } with its pace, and api: on an upstream', () => {
    const campaign = parseCampaign(
      [
        'providers:',
        '  a: { listen: 9101, mock: { preset: openai, tokens-per-s: 10, ttft: 200ms, tokens: 3 } }',
        '  b: { listen: 9102, upstream: "http://127.0.0.1:1", api: anthropic }',
        'scenarios: [{ name: s, url: "http://x/", requests: 1 }]',
      ].join('\n'),
      'c.yaml',
      {},
    );
    expect(campaign.providers).toEqual({
      a: { listen: '9101', mock: { preset: 'openai', tokensPerS: 10, ttft: '200ms', tokens: 3 } },
      b: { listen: '9102', upstream: 'http://127.0.0.1:1', api: 'anthropic' },
    });
  });

  test('mock: openai is short for { preset: openai }', () => {
    const campaign = parseCampaign(
      ['providers:', '  a: { listen: 9101, mock: anthropic }', 'scenarios: [{ name: s, url: "http://x/", requests: 1 }]'].join('\n'),
      'c.yaml',
      {},
    );
    expect(campaign.providers).toEqual({ a: { listen: '9101', mock: { preset: 'anthropic' } } });
  });

  test("contradictions and preset settings without a preset: at file:line, in the file's words", () => {
    const text = [
      'providers:',
      '  a: { listen: 9101, mock: openai, api: anthropic }',
      '  b: { listen: 9102, mock: { tokens: 3, ttft: 1s } }',
      '  c: { listen: 9103, mock: { preset: openai, ttft: 700h, tokens: 200000 } }',
      '  d: { listen: 9104, mock: gemini }',
      '  e: { listen: 9105, mock: { preset: anthropic, tokens: 100000, tokens-per-s: 1 } }',
      'scenarios: [{ name: s, url: "http://x/", requests: 1 }]',
    ].join('\n');
    let message = '';
    try {
      parseCampaign(text, 'c.yaml', {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/c\.yaml:2.*providers\.a\.api.*api anthropic contradicts the mock's preset openai/);
    expect(message).toMatch(/c\.yaml:3.*providers\.b\.mock\.tokens.*tokens sets a preset's answers: give the mock a preset/);
    expect(message).toMatch(/c\.yaml:3.*providers\.b\.mock\.ttft.*ttft sets a preset's answers/);
    expect(message).toMatch(/c\.yaml:4.*providers\.c\.mock\.ttft.*700h.*longer than 24h/);
    expect(message).toMatch(/c\.yaml:4.*providers\.c\.mock\.tokens/);
    expect(message).toMatch(/c\.yaml:5.*providers\.d\.mock: 'gemini' is not a preset \(openai or anthropic\)/);
    // Each setting within bounds, the whole answer not: 100,000 tokens at 1 a second is 27 h.
    expect(message).toMatch(/c\.yaml:6.*providers\.e\.mock\.tokens-per-s.*100000 tokens at 1 a second would take longer than 24h/);
    // The schema's pattern for `mock: NAME` lists the provider names.
    expect(new RegExp(MOCK_PRESET_PATTERN).source).toBe(`^(?:${PROVIDER_NAMES.join('|')})$`);
    expect(message).not.toMatch(/--/);
  });

  test('an unknown preset or api is refused', () => {
    const text = [
      'providers:',
      '  a: { listen: 9101, mock: { preset: gemini } }',
      '  b: { listen: 9102, upstream: "http://127.0.0.1:1", api: cohere }',
      'scenarios: [{ name: s, url: "http://x/", requests: 1 }]',
    ].join('\n');
    expect(() => parseCampaign(text, 'c.yaml', {})).toThrow(UsageError);
    expect(() => parseCampaign(text, 'c.yaml', {})).toThrow(/providers\.a\.mock\.preset.*openai.*anthropic[\s\S]*providers\.b\.api/);
  });
});

describe('a client that leaves mid-body', () => {
  /** A raw POST announcing 100 body bytes, sending 9, then closing. */
  function leaveMidBody(url: string, path: string): Promise<void> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: r-1\r\nContent-Length: 100\r\n\r\n{"model":`,
        );
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
  }

  /** `resil proxy ARGS` as a child process: its URL, and whether it is still running. */
  async function cliProxy(args: string[]): Promise<{ url: string; child: ChildProcess }> {
    const child = spawn(process.execPath, [BIN, 'proxy', ...args, '--listen', '127.0.0.1:0'], { env: userEnv() });
    let stdout = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    expect(await outputMatches(child, /listening on http:\/\/127\.0\.0\.1:\d+/, 'stdout')).toBe(true);
    return { url: /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!, child };
  }

  test('a preset mock and a replay survive it and answer the next call', async () => {
    const har = join(mkdtempSync(join(tmpdir(), 'resil-leave-')), 'llm.har');
    const provider = await mock('openai', { tokens: 2, tokensPerS: 1000 });
    const recorder = await startChaosProxy({ upstream: provider.url, record: har });
    await postForEvents(`${recorder.url}/v1/chat/completions`, { model: 'm', messages: MESSAGES });
    await recorder.close();
    for (const args of [
      ['--mock', 'openai'],
      ['--replay', har],
      ['--mock', 'openai', '--faults', 'stall:10ms', '--failure-rate', '1'],
    ]) {
      const { url, child } = await cliProxy(args);
      try {
        await leaveMidBody(url, '/v1/chat/completions');
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect([args, child.exitCode]).toEqual([args, null]);
        const answer = await postForEvents(`${url}/v1/chat/completions`, { model: 'm', messages: MESSAGES });
        expect([args, answer.status]).toEqual([args, 200]);
      } finally {
        child.kill('SIGINT');
      }
    }
  }, 30_000);
});
