import type { ServerResponse } from 'node:http';
import { buildLoadPlan } from '../../src/engine/plan.js';
import { measurePlan } from '../../src/engine/run.js';
import { isEventStream, SseScanner, type StreamSink } from '../../src/engine/stream.js';
import { decodeHistogram } from '../../src/metrics/histogram.js';
import type { RecorderSnapshot } from '../../src/metrics/snapshot.js';
import { cpuWait } from '../helpers/machine.js';
import { startRawServer, startServer, type TestServer } from '../helpers/servers.js';

/** What a scanner told its sink: ttft and gaps in order (ms). */
function collect(): StreamSink & { streams: number; firsts: number[]; gaps: number[] } {
  const sink = {
    streams: 0,
    firsts: [] as number[],
    gaps: [] as number[],
    recordStream: () => sink.streams++,
    recordFirstEvent: (ms: number) => sink.firsts.push(ms),
    recordNextEvent: (ms: number) => sink.gaps.push(ms),
  };
  return sink;
}

/** Scans `body` cut into chunks at `cuts` (byte offsets), chunk i arriving at time i ms; the request started at 0. */
function scan(body: string, cuts: number[]) {
  const sink = collect();
  const scanner = new SseScanner(sink);
  scanner.start(0);
  const bytes = Buffer.from(body);
  const edges = [0, ...cuts, bytes.length];
  for (let i = 0; i + 1 < edges.length; i++) scanner.push(bytes.subarray(edges[i], edges[i + 1]), i);
  return { sink, dataEvents: scanner.dataEvents, errorSeen: scanner.errorSeen };
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
