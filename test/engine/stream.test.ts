import type { ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildLoadPlan } from '../../src/engine/plan.js';
import { measurePlan } from '../../src/engine/run.js';
import { isEventStream, SSE_KEEP_BYTES, SseScanner, type StreamSink } from '../../src/engine/stream.js';
import { decodeHistogram } from '../../src/metrics/histogram.js';
import type { RecorderSnapshot } from '../../src/metrics/snapshot.js';
import { cpuWait } from '../helpers/machine.js';
import { startRawServer, startServer, type TestServer } from '../helpers/servers.js';

/** What a scanner told its sink: ttft, gaps in order and the final silence (ms). */
function collect(): StreamSink & { streams: number; firsts: number[]; gaps: number[]; silences: number[] } {
  const sink = {
    streams: 0,
    firsts: [] as number[],
    gaps: [] as number[],
    silences: [] as number[],
    recordStream: () => sink.streams++,
    recordFirstEvent: (ms: number) => sink.firsts.push(ms),
    recordNextEvent: (ms: number) => sink.gaps.push(ms),
    recordFinalSilence: (ms: number) => sink.silences.push(ms),
  };
  return sink;
}

/**
 * Scans `body` cut into chunks at `cuts` (byte offsets), chunk i arriving at time i ms; the request
 * started at 0; the body ends (or is cut, `cutAt`) one ms after its last chunk.
 */
function scan(body: string | Buffer, cuts: number[], cut = false) {
  const sink = collect();
  const scanner = new SseScanner();
  scanner.start(0);
  const bytes = Buffer.from(body);
  const edges = [0, ...cuts, bytes.length];
  for (let i = 0; i + 1 < edges.length; i++) scanner.push(bytes.subarray(edges[i], edges[i + 1]), i);
  scanner.end(edges.length - 1, cut);
  const { dataEvents, errorSeen } = scanner;
  scanner.commit(sink);
  return { sink, dataEvents, errorSeen };
}

describe('what is a stream', () => {
  const headers = (name: string, value: string) => ['date', 'x', name, value].map((text) => Buffer.from(text));
  test.each([
    ['content-type', 'text/event-stream', true],
    ['Content-Type', 'TEXT/Event-Stream; charset=utf-8', true],
    ['content-type', '  text/event-stream ;x=1', true],
    ['content-type', 'text/event-streams', false],
    ['content-type', 'application/json', false],
    ['content-types', 'text/event-stream', false],
    ['x-content-typ', 'text/event-stream', false],
  ])('%s: %s -> %s', (name, value, stream) => expect(isEventStream(headers(name, value))).toBe(stream));
});

describe('SSE scanner', () => {
  const openai = 'data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"choices":[{"delta":{"content":"b"}}]}\n\ndata: [DONE]\n\n';

  test('three data events, however the body is cut into two chunks (in the middle of every blank line too)', () => {
    for (let cut = 0; cut <= openai.length; cut++) {
      const { sink, dataEvents, errorSeen } = scan(openai, [cut]);
      expect({ cut, dataEvents, errorSeen, gaps: sink.gaps.length, firsts: sink.firsts.length }).toEqual({
        cut,
        dataEvents: 3,
        errorSeen: false,
        gaps: 2,
        firsts: 1,
      });
    }
  });

  test('one byte per chunk, with CRLF, CR and LF line ends: events end at the blank line, timed by the chunk that ends them', () => {
    const body = 'data: a\r\n\r\n: comment\n\nevent: ping\n\ndata: b\r\rdata\n\nid: 7\nretry: 5\n\n';
    const cuts = Array.from({ length: body.length - 1 }, (_, i) => i + 1);
    const { sink, dataEvents } = scan(body, cuts);
    expect(dataEvents).toBe(3); // 'a', 'b' and the bare 'data' field; comment, bare event and id/retry are no data events
    // The chunk of byte i arrives at i ms; an event ends at its blank line's end of line (of CRLF, the CR).
    const ends = [9, body.indexOf('data: b\r\r') + 8, body.indexOf('data\n\n') + 5];
    expect(sink.firsts).toEqual([ends[0]]);
    expect(sink.gaps).toEqual([ends[1]! - ends[0]!, ends[2]! - ends[1]!]);
  });

  test('an unfinished last event is dropped; an error event is not a data event', () => {
    expect(scan('data: a\n\ndata: b\n', []).dataEvents).toBe(1);
    const anthropic =
      'event: content_block_delta\ndata: {"type":"content_block_delta"}\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error"}}\n\n';
    expect(scan(anthropic, [70])).toMatchObject({ dataEvents: 1, errorSeen: true });
    expect(scan('data: {"error":{"message":"boom"}}\n\n', [])).toMatchObject({ dataEvents: 0, errorSeen: true });
    expect(scan('event: error\n\n', [])).toMatchObject({ dataEvents: 0, errorSeen: true });
    // Split over two data lines, and the JSON split across chunks.
    expect(scan('data: {"type":\ndata: "error"}\n\n', [12])).toMatchObject({ dataEvents: 0, errorSeen: true });
    // Not errors: a token whose text is "error", error: null, a JSON array.
    expect(scan('data: {"content":"error"}\n\ndata: {"error":null}\n\ndata: ["error"]\n\n', [])).toMatchObject({
      dataEvents: 3,
      errorSeen: false,
    });
    // `"error"` is looked for once per chunk: one in a comment or an earlier event must not hide or fake a later one.
    const mixed = ': "error" in a comment\ndata: {"content":"error"}\n\ndata: {"ok":1}\n\ndata: {"error":{"message":"late"}}\n\n';
    for (const cuts of [[], [30], [60]]) expect(scan(mixed, cuts)).toMatchObject({ dataEvents: 2, errorSeen: true });
    expect(scan(': "error"\ndata: {"ok":1}\n\n', [])).toMatchObject({ dataEvents: 1, errorSeen: false });
  });

  test('a leading UTF-8 BOM is skipped, however split; one later in the body is kept', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('data: {"error":{"message":"x"}}\n\n')]);
    for (const cut of [1, 2, 3]) expect(scan(body, [cut])).toMatchObject({ dataEvents: 0, errorSeen: true });
    // Without the skip the first line would be the field "\uFEFFdata": no data event at all.
    expect(scan(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('data: a\n\n')]), [2]).dataEvents).toBe(1);
    // Bytes that only start like a BOM stay part of the first line (an unknown field here).
    expect(scan(Buffer.concat([Buffer.from([0xef, 0xbb]), Buffer.from('data: a\n\ndata: b\n\n')]), [1]).dataEvents).toBe(1);
  });

  test('an empty chunk between CR and LF does not make the LF a second line end (a blank line that was not sent)', () => {
    // 'data: a' CR | empty | LF 'data: b' ... : one event with two data lines, not two events.
    const sink = collect();
    const scanner = new SseScanner();
    scanner.start(0);
    scanner.push(Buffer.from('data: a\r'), 1);
    scanner.push(Buffer.alloc(0), 2);
    scanner.push(Buffer.from('\ndata: b\n\n'), 3);
    expect(scanner.dataEvents).toBe(1);
    scanner.end(4, false);
    scanner.commit(sink);
    expect(sink.firsts).toEqual([3]);
  });

  test('the silence from the last data event to an error event or a cut is a gap; a clean end adds none', () => {
    // Chunks at 0, 1, 2 ms; the end at 3 ms.
    const events = ['data: a\n\n', 'data: b\n\n', 'event: error\ndata: {}\n\n'];
    const erred = scan(events.join(''), [events[0]!.length, events[0]!.length + events[1]!.length]);
    expect(erred.sink).toMatchObject({ firsts: [0], gaps: [1], silences: [1] });
    const cut = scan('data: a\n\ndata: b\n\n', [9], true);
    expect(cut.sink).toMatchObject({ firsts: [0], gaps: [1], silences: [1] });
    expect(scan('data: a\n\ndata: b\n\n', [9], false).sink.silences).toEqual([]);
    // Cut before any data event: no ttft, no silence.
    expect(scan(': hi\n\n', [], true).sink).toMatchObject({ streams: 1, firsts: [], silences: [] });
  });

  test('measurements wait for commit: once only, none after discard or for a stream that never started', () => {
    const sink = collect();
    const scanner = new SseScanner();
    scanner.commit(sink);
    scanner.start(0);
    scanner.push(Buffer.from('data: a\n\n'), 5);
    scanner.discard();
    scanner.commit(sink);
    expect(sink.streams).toBe(0);
    scanner.start(10);
    scanner.push(Buffer.from('data: a\n\n'), 12);
    scanner.end(13, false);
    scanner.commit(sink);
    scanner.commit(sink);
    expect(sink).toMatchObject({ streams: 1, firsts: [2] });
  });
});

describe('SSE scanner memory: a line or an event that never ends', () => {
  const MB = 1024 * 1024;
  // A real collection before each reading, so that what the heap holds is what the scanner keeps.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  /** Feeds `prefix`, then `total` bytes of `fill` in 64 KiB chunks; returns the heap growth (bytes) with the scanner still live. */
  function feed(scanner: SseScanner, prefix: string, fill: number, total: number): number {
    const chunk = Buffer.alloc(64 * 1024, fill);
    // The first 2 MB before the baseline: what the first calls allocate once (compiled code, feedback)
    // is not the scanner keeping bytes, and it moved the figure by 2-3 MB with other tests before this one.
    scanner.push(Buffer.from(prefix), 0);
    const warmUp = 2 * MB;
    for (let sent = 0; sent < warmUp; sent += chunk.length) scanner.push(Buffer.from(chunk), 1);
    gc();
    const before = process.memoryUsage();
    for (let sent = warmUp; sent < total; sent += chunk.length) scanner.push(Buffer.from(chunk), 1);
    gc();
    const after = process.memoryUsage();
    return after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  }

  test('100 MB of one endless data line keeps at most SSE_KEEP_BYTES, and the event still counts when it ends', () => {
    const scanner = new SseScanner();
    scanner.start(0);
    // The heap figure moves by 2-3 MB with when backing stores are freed; unbounded it grew by 134 MB.
    expect(feed(scanner, 'data: ', 0x61, 100 * MB)).toBeLessThan(4 * MB);
    expect((scanner as unknown as { partial: { buf: Buffer } }).partial.buf.length).toBeLessThanOrEqual(SSE_KEEP_BYTES);
    scanner.push(Buffer.from('\n\n'), 2);
    expect(scanner.dataEvents).toBe(1);
  });

  test('an event of endless data lines keeps at most SSE_KEEP_BYTES and is still classified by its first bytes', () => {
    const lines = (first: string) => {
      const scanner = new SseScanner();
      scanner.start(0);
      scanner.push(Buffer.from(`data: ${first}\n`), 0);
      const line = Buffer.from(`data: ${'x'.repeat(1000)}\n`);
      for (let i = 0; i < 20_000; i++) scanner.push(line, 1); // 20 MB in one event
      const buffers = scanner as unknown as { partial: { buf: Buffer }; data: { buf: Buffer } };
      expect(buffers.data.buf.length).toBeLessThanOrEqual(SSE_KEEP_BYTES);
      scanner.push(Buffer.from('\n'), 2);
      const { dataEvents, errorSeen } = scanner;
      scanner.end(3, false);
      expect(buffers.data.buf.length + buffers.partial.buf.length).toBeLessThanOrEqual(4096); // released at the end
      return { dataEvents, errorSeen };
    };
    expect(lines('{"error": {"message": "boom",')).toEqual({ dataEvents: 0, errorSeen: true });
    expect(lines('{"type":"error","error":{')).toEqual({ dataEvents: 0, errorSeen: true });
    expect(lines('{"error": null, "choices": [')).toEqual({ dataEvents: 1, errorSeen: false });
    expect(lines('{"choices": [{"delta": {"content": "')).toEqual({ dataEvents: 1, errorSeen: false });
  });

  test('an endless event: line keeps its field and is no error name; a short one after it still is', () => {
    const scanner = new SseScanner();
    scanner.start(0);
    scanner.push(Buffer.from(`event: error${'x'.repeat(2 * SSE_KEEP_BYTES)}\ndata: a\n\n`), 0);
    expect({ dataEvents: scanner.dataEvents, errorSeen: scanner.errorSeen }).toEqual({ dataEvents: 1, errorSeen: false });
    scanner.push(Buffer.from(`event: error\ndata: {}\n\n`), 1);
    expect(scanner.errorSeen).toBe(true);
  });
});

// ---- the engine over real sockets ----

const GAP_MS = 100;
const EVENTS = 5;
/**
 * Timer lateness: events are never early, at most this late, plus the time this process waited for a
 * CPU other processes held (cpuWait: 0 on a quiet machine).
 */
const TOLERANCE_MS = 60;

/** Sends `count` data events GAP_MS apart (the first GAP_MS after the headers), then ends or cuts the stream. */
function sse(response: ServerResponse, count: number, end: 'end' | 'cut' | { error: string }): void {
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  response.flushHeaders();
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < count) {
      // Each event written in two pieces, split in the middle of its blank line.
      response.write(`event: token\ndata: {"n":${sent++}}\n`);
      response.write('\n');
      return;
    }
    clearInterval(timer);
    if (end === 'cut') response.socket?.destroy();
    else if (end === 'end') response.end();
    else response.end(end.error);
  }, GAP_MS);
}

async function measure(server: TestServer, options: Partial<Parameters<typeof buildLoadPlan>[0]> = {}): Promise<RecorderSnapshot> {
  const plan = buildLoadPlan({ url: `${server.url}/`, requests: 2, concurrency: 1, ...options });
  return (await measurePlan(plan)).snapshot;
}

function ms(encoded: string) {
  const histogram = decodeHistogram(encoded);
  const figures = {
    count: histogram.totalCount,
    min: histogram.minNonZeroValue / 1000,
    max: histogram.maxValue / 1000,
  };
  histogram.destroy();
  return figures;
}

describe('streams measured by the load engine', () => {
  let server: TestServer | undefined;
  afterEach(async () => server?.close());

  test(`${EVENTS} events ${GAP_MS} ms apart: exact counts, ttft and gaps within ${TOLERANCE_MS} ms`, async () => {
    server = await startServer((_req, res) => sse(res, EVENTS, 'end'));
    const waited = cpuWait();
    const snapshot = await measure(server);
    const late = TOLERANCE_MS + waited();
    expect(snapshot.errors).toEqual({});
    expect(snapshot.ok).toBe(2);
    expect(snapshot.streams).toMatchObject({ streams: 2, dataEvents: 2 * EVENTS });
    const ttft = ms(snapshot.streams!.ttft);
    expect(ttft.count).toBe(2);
    expect(ttft.min).toBeGreaterThanOrEqual(GAP_MS - 2);
    expect(ttft.max).toBeLessThan(GAP_MS + late);
    const gaps = ms(snapshot.streams!.eventGap);
    expect(gaps.count).toBe(2 * (EVENTS - 1));
    // An event read late (the client's loop busy) shortens the gap after it by as much.
    expect(gaps.min).toBeGreaterThanOrEqual(GAP_MS - 10 - waited());
    expect(gaps.max).toBeLessThan(GAP_MS + late);
  });

  test('a plain answer is no stream: no stream figures at all', async () => {
    server = await startServer((_req, res) => res.end('data: x\n\n'));
    const snapshot = await measure(server);
    expect(snapshot.ok).toBe(2);
    expect(snapshot.streams).toBeUndefined();
  });

  test('a stream cut after 2 events is a stream failure; cut before any event, a body failure', async () => {
    server = await startServer((_req, res) => sse(res, 2, 'cut'));
    const cut = await measure(server);
    expect(cut.errors).toEqual({ stream: 2 });
    expect(cut.streams).toMatchObject({ streams: 2, dataEvents: 4 });
    await server.close();
    server = await startServer((_req, res) => sse(res, 0, 'cut'));
    const early = await measure(server);
    expect(early.errors).toEqual({ body: 2 });
    expect(early.streams).toMatchObject({ streams: 2, dataEvents: 0 });
  });

  test('an error event in a stream that ends cleanly is a stream failure (named error, or error JSON)', async () => {
    const named = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    server = await startServer((_req, res) => sse(res, 2, { error: named }));
    expect((await measure(server)).errors).toEqual({ stream: 2 });
    await server.close();
    server = await startServer((_req, res) => sse(res, 1, { error: 'data: {"error":{"message":"boom","type":"server_error"}}\n\n' }));
    const json = await measure(server);
    expect(json.errors).toEqual({ stream: 2 });
    expect(json.ok).toBe(0);
    // A complete answer, as one that fails a body check: its status and latency count.
    expect(json.statusCodes).toEqual({ '200': 2 });
    expect(ms(json.latency).count).toBe(2);
  });

  test('a chunked stream cut by the server mid-event over a raw socket: stream', async () => {
    server = await startRawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n');
      socket.write('9\r\ndata: a\n\n\r\n');
      setTimeout(() => socket.end('4\r\ndata'), 20);
    });
    const snapshot = await measure(server);
    expect(snapshot.errors).toEqual({ stream: 2 });
    expect(snapshot.streams).toMatchObject({ streams: 2, dataEvents: 2 });
  });

  test('open model: ttft counts from the scheduled time, as latency does (queueing included)', async () => {
    // One connection, 4 requests due 10 ms apart: each waits for the streams before it (2 events, then the
    // end, one GAP_MS apart: 3 x GAP_MS each).
    server = await startServer((_req, res) => sse(res, 2, 'end'));
    const waited = cpuWait();
    const snapshot = await measure(server, { rate: 100, requests: 4, concurrency: 1, maxConnections: 1 });
    const late = TOLERANCE_MS + waited();
    expect(snapshot.ok).toBe(4);
    const ttft = ms(snapshot.streams!.ttft);
    const latency = ms(snapshot.latency);
    const service = ms(snapshot.serviceTime!);
    // The fourth request was due at 30 ms and sent after three streams: its ttft is ~10 x GAP_MS - 30 ms.
    expect(ttft.max).toBeGreaterThanOrEqual(10 * GAP_MS - 30 - 2);
    expect(ttft.max).toBeGreaterThan(service.max + 5 * GAP_MS);
    // The slowest request's latency ends 2 x GAP_MS after its first event.
    expect(latency.max - ttft.max).toBeGreaterThanOrEqual(2 * GAP_MS - 10 - waited());
    expect(latency.max - ttft.max).toBeLessThan(2 * GAP_MS + late);
  });
});
