import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosProxy } from '../src/proxy/chaos-proxy.js';
import { startChaosProxy } from '../src/proxy/proxy.js';
import { BIN, userEnv } from './helpers/cli.js';
import { cpuWait } from './helpers/machine.js';
import { startServer, type TestServer } from './helpers/servers.js';

const scratch = mkdtempSync(join(tmpdir(), 'resil-replay-'));
const SECRET = 'sk-live-REPLAY-51f0c9';

interface Received {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** ms after the response headers at which each chunk arrived */
  chunkTimes: number[];
  /** ms of the call that other processes kept this one off the CPU (machine.ts) */
  waitedMs: number;
  error?: string;
}

/** One call with node's http client, timing each body chunk. */
function call(url: string, options: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Received> {
  const waited = cpuWait();
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const started = performance.now();
      const chunks: Buffer[] = [];
      const chunkTimes: number[] = [];
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        chunkTimes.push(performance.now() - started);
      });
      const done = (error?: string) =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks),
          chunkTimes,
          waitedMs: waited(),
          ...(error ? { error } : {}),
        });
      res.on('end', () => done());
      res.on('error', (e) => done(e.message));
      res.on('aborted', () => done('aborted'));
    });
    req.on('error', (e) =>
      resolve({ status: 0, headers: {}, body: Buffer.alloc(0), chunkTimes: [], waitedMs: waited(), error: e.message }),
    );
    req.end(options.body);
  });
}

const EVENTS = ['data: {"token":"Hel"}\n\n', 'data: {"token":"lo"}\n\n', 'data: {"token":"!"}\n\n', 'data: [DONE]\n\n'];
const BINARY = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37) % 256));

describe('record real traffic, replay it offline', () => {
  let upstream: TestServer;
  let recorder: ChaosProxy;
  const har = join(scratch, 'recording.har');
  let original: Record<string, Received> = {};
  let turn = 0;

  beforeAll(async () => {
    upstream = await startServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://x');
        if (url.pathname === '/v1/stream') {
          // Server-sent events, 100 ms apart, chunked.
          res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'abc' });
          for (const [i, event] of EVENTS.entries()) {
            setTimeout(() => (i === EVENTS.length - 1 ? res.end(event) : res.write(event)), i * 100);
          }
        } else if (url.pathname === '/v1/binary') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(BINARY);
        } else if (url.pathname === '/v1/turns') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ turn: turn++ }));
        } else {
          res
            .writeHead(201, { 'content-type': 'application/json' })
            .end(JSON.stringify({ echo: JSON.parse(body || '{}'), a: url.searchParams.get('a') }));
        }
      });
    });
    recorder = await startChaosProxy({ upstream: upstream.url, record: har });
    original = {
      complete: await call(`${recorder.url}/v1/complete?b=2&a=1&token=${SECRET}`, {
        method: 'POST',
        body: '{"prompt":"hi","timestamp":1}',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
      }),
      stream: await call(`${recorder.url}/v1/stream`),
      binary: await call(`${recorder.url}/v1/binary`),
      turn0: await call(`${recorder.url}/v1/turns`),
      turn1: await call(`${recorder.url}/v1/turns`),
    };
    await recorder.close();
    await upstream.close(); // from here on, only the recording exists
  });

  /**
   * When the recording saw the stream's last event, ms after its headers: what a replay reproduces.
   * About 300 ms; more if the machine was busy while recording, which replay must not hide.
   */
  const recordedLastChunkMs = (): number => {
    const chunks = JSON.parse(readFileSync(har, 'utf8')).log.entries[1]._resil.chunks as Array<{ atMs: number }>;
    return chunks[chunks.length - 1]!.atMs;
  };

  test('the recording is HAR 1.2, with chunk timings, and no secret in it', () => {
    const text = readFileSync(har, 'utf8');
    const document = JSON.parse(text);
    expect(document.log.version).toBe('1.2');
    expect(document.log.entries).toHaveLength(5);
    const stream = document.log.entries[1];
    expect(stream.request.method).toBe('GET');
    expect(stream._resil.chunks.length).toBeGreaterThanOrEqual(4);
    // Events 100 ms apart: the last about 300 ms after the headers (tolerance ±60 ms, widened by the
    // time other processes kept this one off the CPU during the recorded call).
    expect(Math.abs(recordedLastChunkMs() - 300)).toBeLessThan(60 + original.stream!.waitedMs);
    expect(text).not.toContain(SECRET);
  });

  test('replay answers byte-identical bodies, equal statuses and headers, with the recorded chunk timing', async () => {
    const replay = await startChaosProxy({ replay: har });
    try {
      const complete = await call(`${replay.url}/v1/complete?a=1&b=2&token=other`, {
        method: 'POST',
        body: '{"timestamp":99,"prompt":"hi"}',
        headers: { 'content-type': 'application/json' },
      });
      // Query parameters match in any order; the token value was redacted in the recording, and the
      // body matches once 'timestamp' is ignored... which it is not by default:
      expect(complete.status).toBe(501);
      const stream = await call(`${replay.url}/v1/stream`);
      const binary = await call(`${replay.url}/v1/binary`);
      expect(stream.status).toBe(200);
      expect(stream.body.equals(original.stream!.body)).toBe(true);
      expect(stream.headers['content-type']).toBe('text/event-stream');
      expect(stream.headers['x-request-id']).toBe('abc');
      expect(binary.body.equals(BINARY)).toBe(true);
      // Chunk timing: the last event where the recording put it (events 100 ms apart, so about 300 ms);
      // tolerance ±60 ms (timers on a busy 2-core machine), widened by the time other processes kept
      // this one off the CPU during the call (headers that arrive late bring the last event closer,
      // late timers push it further).
      const last = stream.chunkTimes[stream.chunkTimes.length - 1]!;
      expect(Math.abs(last - recordedLastChunkMs())).toBeLessThan(60 + stream.waitedMs);
      // Several recordings of one request are served in turn, cycling.
      const turns = [await call(`${replay.url}/v1/turns`), await call(`${replay.url}/v1/turns`), await call(`${replay.url}/v1/turns`)];
      expect(turns.map((t) => JSON.parse(t.body.toString()).turn)).toEqual([0, 1, 0]);
    } finally {
      await replay.close();
    }
  });

  test('matching: query order, ignored JSON fields, and a 501 that names the nearest recording', async () => {
    const replay = await startChaosProxy({ replay: har, replayIgnore: ['timestamp'] });
    try {
      const complete = await call(`${replay.url}/v1/complete?a=1&b=2&token=[redacted]`, {
        method: 'POST',
        body: '{"timestamp":99,"prompt":"hi"}',
      });
      expect(complete.status).toBe(201);
      expect(complete.body.equals(original.complete!.body)).toBe(true);
      const unmatched = await call(`${replay.url}/v1/completely-else`, { method: 'POST', body: '{}' });
      expect(unmatched.status).toBe(501);
      expect(JSON.parse(unmatched.body.toString()).nearest).toMatch(/^POST \/v1\/complete/);
      expect(replay.stats().unmatched).toBe(1);
    } finally {
      await replay.close();
    }
  });

  test('with --upstream, what no recording matches goes to the real dependency; scale:2 doubles the timing', async () => {
    const live = await startServer((_req, res) => res.end('live'));
    const replay = await startChaosProxy({ replay: har, upstream: live.url });
    const slow = await startChaosProxy({ replay: har, replayTiming: 'scale:2' });
    try {
      const missing = await call(`${replay.url}/v1/not-recorded`);
      expect(missing.body.toString()).toBe('live');
      expect(live.seen).toBe(1);
      const recorded = await call(`${replay.url}/v1/binary`);
      expect(recorded.body.equals(BINARY)).toBe(true);
      expect(live.seen).toBe(1);
      const stream = await call(`${slow.url}/v1/stream`);
      // The recorded timing doubled: the last event about 600 ms after the headers (tolerance ±80 ms,
      // widened as above).
      const last = stream.chunkTimes[stream.chunkTimes.length - 1]!;
      expect(Math.abs(last - 2 * recordedLastChunkMs())).toBeLessThan(80 + stream.waitedMs);
    } finally {
      await replay.close();
      await slow.close();
      await live.close();
    }
  });

  test('faults on top of replay: a stream cut after 2 events, and --replay-timing none', async () => {
    const cut = await startChaosProxy({ replay: har, faults: 'truncate:2events' });
    const fast = await startChaosProxy({ replay: har, replayTiming: 'none' });
    try {
      const stream = await call(`${cut.url}/v1/stream`);
      expect(stream.body.toString()).toBe(EVENTS[0]! + EVENTS[1]!);
      expect(stream.error).toBeDefined(); // the chunked stream ends without its terminator
      const quick = await call(`${fast.url}/v1/stream`);
      expect(quick.body.equals(original.stream!.body)).toBe(true);
      // Tolerance: no recorded gaps, so the whole stream within 50 ms (plus the machine's share, as above).
      expect(quick.chunkTimes[quick.chunkTimes.length - 1]!).toBeLessThan(50 + quick.waitedMs);
    } finally {
      await cut.close();
      await fast.close();
    }
  });

  test('a stream under slow-body trickles at the rate, in pieces of a twentieth of it', async () => {
    const slow = await startChaosProxy({ replay: har, faults: 'slow-body:200' });
    try {
      const stream = await call(`${slow.url}/v1/stream`);
      expect(stream.body.equals(original.stream!.body)).toBe(true);
      // 4 events of about 20 bytes at 200 B/s go in pieces of 10 bytes, 50 ms apart: the bytes after
      // the first piece take at least (bytes - 10) / 200 s (tolerance -20 ms, minus the time the machine
      // kept this process off the CPU). Counted from the first arrival, not piece by piece: a piece read
      // late would shorten the gap after it, though the proxy kept its pace.
      const span = stream.chunkTimes.at(-1)! - stream.chunkTimes[0]!;
      expect(span).toBeGreaterThanOrEqual(((stream.body.length - 10) / 200) * 1000 - 20 - stream.waitedMs);
      expect(stream.chunkTimes.length).toBeGreaterThan(4); // more pieces than events: the events were split
    } finally {
      await slow.close();
    }
  });

  test('a HAR saved by another tool (a browser, written by hand in the fixtures) replays', async () => {
    const fixture = new URL('./fixtures/har/devtools.har', import.meta.url).pathname;
    const replay = await startChaosProxy({ replay: fixture });
    try {
      const models = await call(`${replay.url}/v1/models?order=desc&limit=2`);
      expect(models.status).toBe(200);
      expect(models.body.toString()).toBe('{"ok":true}');
      expect(models.headers['x-request-id']).toBe('req_123');
      // The browser saved the decoded body: its Content-Encoding is dropped on replay.
      expect(models.headers['content-encoding']).toBeUndefined();
    } finally {
      await replay.close();
    }
  });

  test('a recording killed mid-way is still a valid HAR of what was recorded', async () => {
    const origin = await startServer((_req, res) => res.end('{"ok":true}'));
    const file = join(scratch, 'killed.har');
    const child = spawn(process.execPath, [BIN, 'proxy', '--upstream', origin.url, '--record', file], {
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve) =>
      child.stdout!.on('data', (chunk: Buffer) => resolve(/http:\/\/127\.0\.0\.1:\d+/.exec(chunk.toString())![0])),
    );
    for (let i = 0; i < 3; i++) await call(`${url}/n/${i}`);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await origin.close();
    const document = JSON.parse(readFileSync(file, 'utf8'));
    expect(document.log.entries.map((e: { request: { url: string } }) => new URL(e.request.url).pathname)).toEqual([
      '/n/0',
      '/n/1',
      '/n/2',
    ]);
  });
});
