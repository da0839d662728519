import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultDocument } from '../src/model/result.js';
import { runCli } from './helpers/cli.js';
import { cpuWait } from './helpers/machine.js';
import { startServer, type TestServer } from './helpers/servers.js';

// Streams as `resil load` reports them: the result's streams section, the text summary's ttft and
// event-gap rows, the stream thresholds (and their failure when no stream was seen), Prometheus,
// worker threads. The engine's measurements themselves: test/engine/stream.test.ts.

const GAP_MS = 50;
/** Thresholds that hold however loaded the machine (the CLI is another process): events are never early, and not seconds late. */
const GENEROUS = '5s';

/** `count` data events GAP_MS apart in the OpenAI way (the first GAP_MS after the headers), then [DONE]. */
function sse(response: ServerResponse, count: number): void {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  response.flushHeaders();
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < count) {
      response.write(`data: {"choices":[{"delta":{"content":"t${sent++}"}}]}\n\n`);
      return;
    }
    clearInterval(timer);
    response.end('data: [DONE]\n\n');
  }, GAP_MS);
}

let server: TestServer;
let dir: string;
beforeAll(async () => {
  server = await startServer((req, res) => {
    if (req.url === '/plain') res.end('{"ok":true}');
    else sse(res, 3);
  });
  dir = await mkdtemp(join(tmpdir(), 'resil-stream-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function load(path: string, args: string[]) {
  return runCli(['load', `${server.url}${path}`, '-n', '6', '-c', '2', ...args]);
}

describe('streams in resil load', () => {
  test('the result carries exact stream counts, ttft and gap figures; thresholds on them pass and fail', async () => {
    const waited = cpuWait();
    const run = await load('/', [
      '--json',
      '-t',
      `ttft_p99<${GENEROUS}`,
      '-t',
      `event_gap_max<${GENEROUS}`,
      '-t',
      `ttft_p50<${GAP_MS / 2}ms`,
    ]);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as ResultDocument;
    // 3 tokens and [DONE] each: 4 data events, 3 gaps per stream.
    expect(result.streams).toMatchObject({ streams: 6, dataEvents: 24 });
    expect(result.streams!.ttftMs!.min).toBeGreaterThanOrEqual(GAP_MS - 2);
    // An event this process's server wrote late (its loop waiting for a CPU) shortens the gap after it by as much.
    expect(result.streams!.eventGapMs!.p50).toBeGreaterThanOrEqual(GAP_MS - 10 - waited());
    expect(result.thresholds.map((t) => [t.expression, t.ok])).toEqual([
      [`ttft_p99<${GENEROUS}`, true],
      [`event_gap_max<${GENEROUS}`, true],
      [`ttft_p50<${GAP_MS / 2}ms`, false],
      ['success_rate>=0.95', true],
    ]);
    expect(result.thresholds[2]).toMatchObject({ metric: 'ttft_p50', kind: 'duration', actual: result.streams!.ttftMs!.p50 });
  });

  test('the text summary shows ttft and event gap rows and the stream count; a plain run shows none', async () => {
    const run = await load('/', []);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/│ ttft +│/);
    expect(run.stdout).toMatch(/│ event gap +│/);
    expect(run.stdout).toMatch(/streams +6 streamed answers · 24 data events/);
    const plain = await load('/plain', []);
    expect(plain.stdout).not.toMatch(/ttft|event gap|streams/);
  });

  test('a stream threshold on a run that saw no stream fails, saying so', async () => {
    const run = await load('/plain', ['--json', '-t', 'ttft_p99<1s', '-t', 'event_gap_mean<1s']);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as ResultDocument;
    expect(result.streams).toBeUndefined();
    for (const verdict of result.thresholds.slice(0, 2)) {
      expect(verdict).toMatchObject({ ok: false, actual: null, note: expect.stringMatching(/^no streamed answer was seen/) });
    }
    const text = await load('/plain', ['-t', 'ttft_p99<1s']);
    expect(text.stdout).toContain('✗ no streamed answer was seen');
  });

  test('stream thresholds are judged at the end: abort and over are refused with one line', async () => {
    const run = await load('/', ['-t', 'ttft_p99<1s abort']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/ttft_p99 is judged at the end of the run only/);
  });

  test('worker threads: streams and events add up exactly; Prometheus has the ttft and gap histograms', async () => {
    const prom = join(dir, 'streams.prom');
    const run = await load('/', ['--workers', '2', '--json', '--out', prom]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as ResultDocument;
    expect(result.settings.workers).toBe(2);
    expect(result.streams).toMatchObject({ streams: 6, dataEvents: 24 });
    const text = await readFile(prom, 'utf8');
    expect(text).toContain('resil_streams_total{scenario="load"} 6');
    expect(text).toContain('resil_stream_data_events_total{scenario="load"} 24');
    expect(text).toContain('resil_stream_ttft_seconds_count{scenario="load"} 6');
    expect(text).toContain('resil_stream_event_gap_seconds_count{scenario="load"} 18');
    // Every ttft is above 25 ms and far below 10 s.
    expect(text).toContain('resil_stream_ttft_seconds_bucket{scenario="load",le="0.025"} 0');
    expect(text).toContain('resil_stream_ttft_seconds_bucket{scenario="load",le="10"} 6');
  });

  test('shards merge: counts add and the merged thresholds are judged on the merged histograms', async () => {
    const files = [1, 2].map((i) => join(dir, `shard-${i}.json`));
    const thresholds = ['-t', 'ttft_max<10s', '-t', 'event_gap_p50<1ms'];
    const shards = await Promise.all(files.map((file, i) => load('/', ['--shard', `${i + 1}/2`, '--out', file, ...thresholds])));
    expect(shards.map((run) => run.code)).toEqual([1, 1]);
    const parts = await Promise.all(files.map(async (file) => JSON.parse(await readFile(file, 'utf8')) as ResultDocument));
    expect(parts.map((part) => part.streams!.streams)).toEqual([3, 3]);
    const merged = await runCli(['report', '--merge', ...files, '--json']);
    const result = JSON.parse(merged.stdout) as ResultDocument;
    expect(result.streams).toMatchObject({ streams: 6, dataEvents: 24 });
    expect(result.streams!.ttftMs!.max).toBe(Math.max(...parts.map((part) => part.streams!.ttftMs!.max)));
    expect(result.thresholds.map((t) => [t.expression, t.ok])).toEqual([
      ['ttft_max<10s', true],
      ['event_gap_p50<1ms', false],
      ['success_rate>=0.95', true],
    ]);
    expect(result.thresholds[1]!.actual).toBe(result.streams!.eventGapMs!.p50);
  });
});

describe('streams in policy mode (resil chaos without a service: resil client calls the proxy)', () => {
  /**
   * An upstream whose every other answer (the first, third...) is a stream that, after 2 events, is cut
   * or sends an error event and ends; the others end after 3 events.
   */
  async function flakyStreams(bad: 'cut' | 'error' = 'cut'): Promise<TestServer> {
    let answers = 0;
    return startServer((_req, res) => {
      const cut = answers++ % 2 === 0;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < (cut ? 2 : 3)) {
          res.write(`data: {"n":${sent++}}\n\n`);
          return;
        }
        clearInterval(timer);
        if (!cut) res.end();
        else if (bad === 'cut') res.socket?.destroy();
        else res.end('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
      }, 20);
    });
  }

  async function chaos(upstream: TestServer, args: string[]) {
    const run = await runCli(['chaos', '--upstream', upstream.url, '--failure-rate', '0', '-n', '3', '-c', '1', '--json', ...args]);
    return JSON.parse(run.stdout) as ResultDocument;
  }

  test('a stream cut mid-answer is an attempt outcome: retried with --retry-on stream, counted as stream otherwise', async () => {
    const upstream = await flakyStreams();
    try {
      const retried = await chaos(upstream, ['--retries', '2', '--retry-on', 'stream', '--backoff', 'fixed:1ms']);
      expect(retried.requests).toMatchObject({ total: 3, ok: 3 });
      expect(retried.errors).toEqual({});
      expect(retried.policy).toMatchObject({ attempts: 6, retried: 3 });
      // One stream per request, its final attempt's (whole, 3 events): the 3 cut attempts are not what the caller saw.
      expect(retried.streams).toMatchObject({ streams: 3, dataEvents: 9 });
      // ttft counts from the request's start: the cut attempt (events at 20 and 40 ms, cut at 60 ms) comes
      // first, then the final attempt's first event 20 ms after its headers. Timers are never early.
      expect(retried.streams!.ttftMs!.min).toBeGreaterThanOrEqual(78);

      const kept = await chaos(upstream, ['--retries', '2']);
      // The default --retry-on (5xx,429,timeout,reset) does not retry a stream failure. The upstream's
      // count goes on: this run's first answer is its seventh (cut), then whole, then cut.
      expect(kept.errors).toEqual({ stream: 2 });
      expect(kept.policy).toMatchObject({ attempts: 3, retried: 0 });
    } finally {
      await upstream.close();
    }
  });

  test('a stream that carries an error event is an attempt outcome too: retried with --retry-on stream', async () => {
    const upstream = await flakyStreams('error');
    try {
      const retried = await chaos(upstream, ['--retries', '2', '--retry-on', 'stream', '--backoff', 'fixed:1ms']);
      expect(retried.requests).toMatchObject({ total: 3, ok: 3 });
      expect(retried.policy).toMatchObject({ attempts: 6, retried: 3 });
      expect(retried.streams).toMatchObject({ streams: 3, dataEvents: 9 });
      const kept = await chaos(upstream, ['--retries', '2']);
      expect(kept.errors).toEqual({ stream: 2 });
      expect(kept.statusCodes).toEqual({ '200': 3 });
      expect(kept.streams).toMatchObject({ streams: 3 });
    } finally {
      await upstream.close();
    }
  });

  test('a stream with an error event fails over as a cut stream does, without stream in --retry-on', async () => {
    const failing = (bad: 'cut' | 'error') =>
      startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"n":0}\n\n');
        setTimeout(() => {
          if (bad === 'cut') res.socket?.destroy();
          else res.end('event: error\ndata: {"type":"error","error":{"type":"overloaded_error"}}\n\n');
        }, 20);
      });
    const healthy = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"n":0}\n\ndata: [DONE]\n\n');
    });
    for (const bad of ['cut', 'error'] as const) {
      const upstream = await failing(bad);
      try {
        const run = await chaos(upstream, ['--failover', healthy.url]);
        expect({ bad, requests: run.requests, errors: run.errors }).toMatchObject({ bad, requests: { total: 3, ok: 3 }, errors: {} });
        expect(run.policy).toMatchObject({ attempts: 6, failovers: 3 });
        expect(run.streams).toMatchObject({ streams: 3, dataEvents: 6 });
      } finally {
        await upstream.close();
      }
    }
    await healthy.close();
  });

  test('the silence that ends a stream in an error event or a cut is an event gap: a slow idle timeout shows', async () => {
    // 2 events at once, then 600 ms of silence, then an error event (or a cut).
    const silent = (bad: 'cut' | 'error') =>
      startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"n":0}\n\ndata: {"n":1}\n\n');
        setTimeout(() => {
          if (bad === 'cut') res.socket?.destroy();
          else res.end('data: {"error":{"message":"idle timeout"}}\n\n');
        }, 600);
      });
    for (const bad of ['cut', 'error'] as const) {
      const upstream = await silent(bad);
      try {
        const run = await runCli(['load', upstream.url, '-n', '1', '--json', '-t', 'event_gap_max<500ms']);
        const result = JSON.parse(run.stdout) as ResultDocument;
        expect({ bad, code: run.code, errors: result.errors }).toEqual({ bad, code: 1, errors: { stream: 1 } });
        expect(result.streams).toMatchObject({ streams: 1, dataEvents: 2 });
        // The server's timer is never early; the client (another process, starting up) may read the first
        // events late, which shortens the silence it saw by as much: 50 ms allowed (seen: 11 ms).
        expect(result.streams!.eventGapMs!.max).toBeGreaterThanOrEqual(550);
        expect(result.thresholds[0]).toMatchObject({ expression: 'event_gap_max<500ms', ok: false });
      } finally {
        await upstream.close();
      }
    }
  });
});
