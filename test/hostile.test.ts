import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { runLoad } from '../src/session/load.js';
import type { ResultDocument } from '../src/model/result.js';
import { cpuWait } from './helpers/machine.js';
import { startServer, type TestServer } from './helpers/servers.js';
import { recordTimeouts, type TimedOut } from './helpers/timeouts.js';

// Hostile targets over real sockets (127.0.0.1, port 0): each misbehaviour ends in one classified,
// counted outcome, and the run neither crashes nor stalls. Timing tolerances are stated where asserted.

interface RequestHead {
  method: string;
  path: string;
  /** Request number taken from a '/{{i}}' path, or -1. */
  index: number;
  contentLength: number;
}

interface HostileServer extends TestServer {
  /** Bytes of request body the server has read (and discarded). */
  readonly bodyBytesRead: number;
}

/**
 * A raw TCP server: `onRequest` gets the socket once a request's head has arrived and decides what
 * (not) to send. A request body announced by Content-Length is read and discarded, so a keep-alive
 * connection stays in step (unless the handler destroys it).
 */
async function startHostileServer(onRequest: (socket: Socket, head: RequestHead) => void): Promise<HostileServer> {
  const counter = { seen: 0, bodyBytesRead: 0 };
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    let bodyLeft = 0;
    socket.on('data', (chunk: Buffer) => {
      let text = chunk.toString('latin1');
      if (bodyLeft > 0) {
        const skip = Math.min(bodyLeft, text.length);
        bodyLeft -= skip;
        counter.bodyBytesRead += skip;
        text = text.slice(skip);
      }
      buffered += text;
      let end: number;
      while (bodyLeft === 0 && (end = buffered.indexOf('\r\n\r\n')) !== -1) {
        const headText = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const [method = '', path = ''] = headText.split('\r\n', 1)[0]!.split(' ');
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(headText);
        const contentLength = length ? Number(length[1]) : 0;
        const skip = Math.min(contentLength, buffered.length);
        buffered = buffered.slice(skip);
        counter.bodyBytesRead += skip;
        bodyLeft = contentLength - skip;
        const index = /^\/(\d+)/.exec(path);
        counter.seen++;
        onRequest(socket, { method, path, index: index ? Number(index[1]) : -1, contentLength });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get seen() {
      return counter.seen;
    },
    get bodyBytesRead() {
      return counter.bodyBytesRead;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Writes `chunk` repeatedly until `limit` bytes are out or the socket closes, honouring
 * backpressure (never more than one chunk queued in user space). Returns a live byte count.
 */
function pump(socket: Socket, chunk: Buffer, limit: number, then?: () => void): { written: number } {
  const state = { written: 0 };
  let stopped = false;
  const write = (): void => {
    while (!stopped && !socket.destroyed && state.written < limit) {
      const piece = limit - state.written >= chunk.length ? chunk : chunk.subarray(0, limit - state.written);
      state.written += piece.length;
      if (!socket.write(piece)) return; // wait for 'drain'
    }
    if (!stopped && state.written >= limit) {
      stopped = true;
      socket.off('drain', write);
      then?.();
    }
  };
  socket.on('drain', write);
  socket.once('close', () => {
    stopped = true;
    socket.off('drain', write);
  });
  write();
  return state;
}

function errorSum(result: ResultDocument): number {
  return Object.values(result.errors).reduce((a, b) => a + b, 0);
}

function expectCountsAddUp(result: ResultDocument, total: number): void {
  expect(result.requests.total).toBe(total);
  expect(result.requests.cancelled).toBe(0);
  expect(result.requests.ok + result.requests.failed).toBe(total);
  expect(errorSum(result)).toBe(result.requests.failed);
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('hostile targets', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  // ---- 1. Malformed HTTP ----------------------------------------------------------------------
  // The server writes its bytes and keeps the connection open, so the class comes from the parse
  // error itself, not from a close that would follow it.
  const malformed: Array<[string, string]> = [
    ['a garbage status line', 'HTTP/1.1 2x0 OK\r\ncontent-length: 2\r\n\r\nok'],
    ['a status line that is not HTTP at all', '\x00\x01\x02\xff garbage\r\n\r\n'],
    ['a space inside a header name', 'HTTP/1.1 200 OK\r\nBad Header: x\r\ncontent-length: 2\r\n\r\nok'],
    ['a control byte inside a header name', 'HTTP/1.1 200 OK\r\nx-a\x01b: x\r\ncontent-length: 2\r\n\r\nok'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nno-colon-here\r\ncontent-length: 2\r\n\r\nok'],
    ['a bare LF inside a header value', 'HTTP/1.1 200 OK\r\nx-a: 1\n2\r\ncontent-length: 2\r\n\r\nok'],
    ['a non-hex chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n'],
    ['a chunk longer than its size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n'],
    [
      'both Content-Length and chunked',
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    ],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok!'],
  ];
  test.each(malformed)('malformed HTTP (%s) is other, counted exactly', async (_name, response) => {
    server = await startHostileServer((socket) => socket.write(Buffer.from(response, 'latin1')));
    const started = performance.now();
    const result = await runLoad({ url: server.url, requests: 6, concurrency: 2, timeout: '5s' });
    expect(result.requests).toEqual({ total: 6, ok: 0, failed: 6, cancelled: 0, dropped: 0 });
    expect(result.errors).toEqual({ other: 6 });
    expect(server.seen).toBe(6);
    // A parse error ends the request at once: nowhere near the 5 s timeout (tolerance: 1 s).
    expect(performance.now() - started).toBeLessThan(1000);
  });

  // ---- 2. Never-ending headers ----------------------------------------------------------------
  // The server sends a status line and then header bytes without end (bounded here at 64 MiB, or
  // until the client closes the socket). undici's header limit (16 KiB, node's --max-http-header-size)
  // trips: UND_ERR_HEADERS_OVERFLOW, classified other.
  const endless: Array<[string, string, Buffer]> = [
    // 600 lines of 109 bytes per write keeps the pump cheap.
    ['endless header lines', 'HTTP/1.1 200 OK\r\n', Buffer.from(`x-pad: ${'a'.repeat(100)}\r\n`.repeat(600))],
    ['one endless header value', 'HTTP/1.1 200 OK\r\nx-endless: ', Buffer.alloc(64 * 1024, 'a')],
  ];
  test.each(endless)('never-ending headers (%s) are other, quickly, with the socket closed by resil', async (_name, start, block) => {
    const pumps: Array<{ written: number }> = [];
    server = await startHostileServer((socket) => {
      socket.write(start);
      pumps.push(pump(socket, block, 64 * MiB));
    });
    const started = performance.now();
    const result = await runLoad({ url: server.url, requests: 4, concurrency: 2, timeout: '10s' });
    const elapsed = performance.now() - started;
    expect(result.requests).toEqual({ total: 4, ok: 0, failed: 4, cancelled: 0, dropped: 0 });
    expect(result.errors).toEqual({ other: 4 });
    // Well before --timeout (10 s): tolerance 1 s for four requests.
    expect(elapsed).toBeLessThan(1000);
    // resil hung up long before the 64 MiB bound: the server could not write more than the limit
    // plus what the socket buffers hold (loopback buffers are a few MiB; allow 16 MiB).
    for (const p of pumps) expect(p.written).toBeLessThan(16 * MiB);
  });

  // ---- 3. A 1 GiB body ------------------------------------------------------------------------
  // The server streams 1 GiB (Content-Length: 1073741824) with backpressure and stops when the client
  // goes away. With --timeout 5s the request ends as timeout, or as a success if all of it was read in
  // time (a quiet 2-CPU machine reads it all in about 2 s); either way the run ends within timeout + 1 s
  // and resident memory grows nowhere near 1 GiB.
  async function oneGigabyte(
    expectBody: string | undefined,
  ): Promise<{ result: ResultDocument; elapsed: number; waited: number; served: number; rssGrowth: number; bufGrowth: number }> {
    let served = { written: 0 };
    const chunk = Buffer.alloc(256 * 1024, 'a');
    server = await startHostileServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${GiB}\r\ncontent-type: text/plain\r\n\r\n`);
      served = pump(socket, chunk, GiB);
    });
    const base = process.memoryUsage();
    let peakRss = base.rss;
    let peakBuf = base.arrayBuffers;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakBuf = Math.max(peakBuf, now.arrayBuffers);
    }, 20);
    const started = performance.now();
    const waited = cpuWait();
    try {
      const options = { url: server.url, requests: 1, concurrency: 1, timeout: '5s' } as const;
      const result = await runLoad(expectBody === undefined ? options : { ...options, expectBody });
      return {
        result,
        elapsed: performance.now() - started,
        waited: waited(),
        served: served.written,
        rssGrowth: peakRss - base.rss,
        bufGrowth: peakBuf - base.arrayBuffers,
      };
    } finally {
      clearInterval(sampler);
    }
  }

  test.each([
    ['without a body check (body discarded unread)', undefined],
    ['with --expect-body (kept bytes capped at --max-body, 1 MiB)', 'text that is not there'],
  ])('a 1 GiB body %s: timeout or success, within timeout + 1 s, memory bounded', async (_name, expectBody) => {
    const { result, elapsed, waited, served, rssGrowth, bufGrowth } = await oneGigabyte(expectBody);
    expectCountsAddUp(result, 1);
    if (served >= GiB && result.requests.ok + (result.errors.body ?? 0) === 1) {
      // Read to the end in time: a 200 that passes (no check) or fails the body check.
      expect(result.statusCodes).toEqual({ '200': 1 });
      expect(result.errors).toEqual(expectBody === undefined ? {} : { body: 1 });
    } else {
      expect(result.errors).toEqual({ timeout: 1 });
    }
    // The run ends within --timeout + 1 s (plus the time other processes kept this one off the CPU).
    expect(elapsed).toBeLessThan(6000 + waited);
    // Memory: nowhere near 1 GiB. Tolerance: 200 MB of growth in RSS and in ArrayBuffer memory (socket
    // read buffers not yet collected, the 1 MiB kept for the check, the server's own chunk).
    expect(rssGrowth).toBeLessThan(200 * MiB);
    expect(bufGrowth).toBeLessThan(200 * MiB);
    // The bound means something only if a lot crossed the socket: at least 256 MiB before the timeout
    // (observed: all of it in about 2 s on a quiet 2-CPU machine, 200-240 MiB in 2 s with both CPUs
    // busy elsewhere, hence the 5 s timeout), more than the tolerance above or --max-body could explain.
    expect(served).toBeGreaterThan(256 * MiB);
  });

  // Kept bytes are capped at --max-body: a check sees exactly the first maxBody bytes. The body is sent
  // in several writes so the cap falls inside a later chunk, not the first one.
  async function bodyCheck(body: string, maxBody: number, expectBody?: string): Promise<ResultDocument> {
    server = await startHostileServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
      let at = 0;
      const next = (): void => {
        if (socket.destroyed) return;
        socket.write(body.slice(at, at + 300));
        at += 300;
        if (at < body.length) setTimeout(next, 2);
      };
      next();
    });
    const options = { url: server.url, requests: 3, concurrency: 1, maxBody };
    return runLoad(expectBody === undefined ? options : { ...options, expectBody });
  }

  test('--max-body 1024: expected text after byte 2048 is not seen → body', async () => {
    const result = await bodyCheck(`${'a'.repeat(2048)}NEEDLE${'b'.repeat(2000)}`, 1024, 'NEEDLE');
    expect(result.requests).toEqual({ total: 3, ok: 0, failed: 3, cancelled: 0, dropped: 0 });
    expect(result.errors).toEqual({ body: 3 });
    expect(result.statusCodes).toEqual({ '200': 3 });
  });

  test('--max-body 1024: expected text before byte 512 passes', async () => {
    const result = await bodyCheck(`${'a'.repeat(400)}NEEDLE${'b'.repeat(4000)}`, 1024, 'NEEDLE');
    expect(result.requests).toEqual({ total: 3, ok: 3, failed: 0, cancelled: 0, dropped: 0 });
  });

  test('--max-body 1024: the cap is exact (text ending at byte 1024 passes, at byte 1025 fails)', async () => {
    const inside = await bodyCheck(`${'a'.repeat(1018)}NEEDLE${'b'.repeat(3000)}`, 1024, 'NEEDLE');
    expect(inside.requests.ok).toBe(3);
    await server!.close();
    const across = await bodyCheck(`${'a'.repeat(1019)}NEEDLE${'b'.repeat(3000)}`, 1024, 'NEEDLE');
    expect(across.errors).toEqual({ body: 3 });
  });

  test('without a check, a body larger than --max-body is not read for checks: the response passes', async () => {
    const result = await bodyCheck('z'.repeat(5000), 1024);
    expect(result.requests).toEqual({ total: 3, ok: 3, failed: 0, cancelled: 0, dropped: 0 });
  });

  // ---- 4. Slower than the timeout -------------------------------------------------------------
  // Headers arrive, then the body never finishes. Two variants: the body stops dead (undici's idle
  // body timer and resil's total timeout coincide), and the body trickles a byte every 50 ms (the idle
  // timer never fires; only resil's total --timeout can end it).
  const TIMEOUT_MS = 500;
  /**
   * The timeout as the client measured it (dispatch to abort): never early (1 ms allowed for the
   * dispatch after resil's clock starts), at most 20% late. The hang-up as the server saw it (request
   * to close): within the same 20%. Both bounds allow the time other processes kept this one off the
   * CPU (`waitedMs`, during the run: every request starts with it): late timers above; below, a
   * dispatch held up after resil's clock started.
   */
  function expectTimeouts(lives: TimedOut[], hangUps: number[], count: number, waitedMs: number): void {
    expect(lives).toHaveLength(count);
    for (const { ms } of lives) {
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 1 - waitedMs);
      expect(ms).toBeLessThan(TIMEOUT_MS * 1.2 + waitedMs);
    }
    expect(hangUps).toHaveLength(count);
    for (const ms of hangUps) expect(ms).toBeLessThan(TIMEOUT_MS * 1.2 + waitedMs);
  }
  test.each([
    ['stops after a few bytes', false],
    ['trickles a byte every 50 ms', true],
  ])('a body that %s is timeout, fired within 20%% of --timeout', async (_name, trickle) => {
    const hangUps: number[] = [];
    server = await startHostileServer((socket) => {
      const t0 = performance.now();
      socket.once('close', () => hangUps.push(performance.now() - t0));
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nfirst bytes');
      if (trickle) {
        const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('x')), 50);
        socket.once('close', () => clearInterval(timer));
      }
    });
    const started = performance.now();
    const waited = cpuWait();
    const timedOut = recordTimeouts();
    const result = await runLoad({ url: server.url, requests: 3, concurrency: 3, timeout: TIMEOUT_MS });
    const elapsed = performance.now() - started;
    const lives = timedOut();
    expect(result.requests).toEqual({ total: 3, ok: 0, failed: 3, cancelled: 0, dropped: 0 });
    expect(result.errors).toEqual({ timeout: 3 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expectTimeouts(lives, hangUps, 3, waited());
    // The run: the same, plus 100 ms for start-up and closing (and the machine's share, as above).
    expect(elapsed).toBeLessThan(TIMEOUT_MS * 1.2 + 100 + waited());
  });

  // ---- 5. Closes mid-body ---------------------------------------------------------------------
  const midBody: Array<[string, string, 'end' | 'destroy' | 'reset']> = [
    ['Content-Length body, FIN', 'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nonly some', 'end'],
    ['Content-Length body, connection: close, FIN', 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1000\r\n\r\nonly some', 'end'],
    ['chunked, cut mid-chunk, FIN', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n400\r\nonly part of the chunk', 'end'],
    ['chunked, cut mid-chunk, destroy', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n400\r\nonly part of the chunk', 'destroy'],
    ['chunked, cut mid-chunk, RST', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n400\r\nonly part of the chunk', 'reset'],
    ['chunked, cut between chunks (no last chunk), FIN', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n', 'end'],
  ];
  test.each(midBody)('closing mid-body (%s) is body', async (_name, response, how) => {
    server = await startHostileServer((socket) => {
      socket.write(response, () => {
        // Let the bytes reach the client before the close.
        setTimeout(() => (how === 'end' ? socket.end() : how === 'destroy' ? socket.destroy() : socket.resetAndDestroy()), 5);
      });
    });
    const result = await runLoad({ url: server.url, requests: 5, concurrency: 1, timeout: '5s' });
    expect(result.requests).toEqual({ total: 5, ok: 0, failed: 5, cancelled: 0, dropped: 0 });
    expect(result.errors).toEqual({ body: 5 });
  });

  // KNOWN BUG (src/engine/classify.ts): with `connection: close` undici finishes the parser on FIN and
  // reports an HTTPParserError 'Invalid EOF state' whose `code` is undefined (undici 7.30 builds it from
  // constants.ERROR[ret], a name→number map), so classifyError falls through to 'other'. The body was
  // cut short after the headers: it should be 'body'. Remove `.failing` once classify.ts is fixed.
  test('closing mid-chunk after `connection: close` (FIN) is body', async () => {
    server = await startHostileServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n400\r\nonly part of the chunk', () =>
        setTimeout(() => socket.end(), 5),
      );
    });
    const result = await runLoad({ url: server.url, requests: 5, concurrency: 1, timeout: '5s' });
    expect(result.requests).toEqual({ total: 5, ok: 0, failed: 5, cancelled: 0, dropped: 0 });
    expect(result.errors).toEqual({ body: 5 }); // today: { other: 5 }
  });

  // ---- 6. Answers before reading the request --------------------------------------------------
  // A POST with an 8 MiB body; the server answers as soon as the request head arrives, before the body
  // is (all) read. undici records the response when it is complete even though the request is still
  // being written (then drops the connection), so the answer is what counts.
  const BIG = 'x'.repeat(8 * MiB);
  // The server keeps reading (and discarding) the body, then answers the next request on the connection.
  test.each([
    ['413', 413],
    ['200', 200],
  ] as const)('an early %s (server keeps reading) is recorded as that response', async (_name, status) => {
    server = await startHostileServer((socket) => socket.write(`HTTP/1.1 ${status} X\r\ncontent-length: 4\r\n\r\nnope`));
    const started = performance.now();
    const result = await runLoad({ url: server.url, method: 'POST', body: BIG, requests: 4, concurrency: 2, timeout: '5s' });
    expectCountsAddUp(result, 4);
    expect(result.statusCodes).toEqual({ [status]: 4 });
    expect(result.errors).toEqual(status === 200 ? {} : { [`status:${status}`]: 4 });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  // The server answers and half-closes (FIN, no `connection: close`) while the body is still arriving.
  // The first request on each connection gets its 413. resil sends the next request from inside
  // undici's onComplete, before undici has marked the socket idle, which skips undici's idle-socket
  // check, so that request is written onto the half-closed socket and fails as closed (see the
  // reuse test below). Invariant asserted: every request is the 413 or closed, at least one 413 per
  // connection (concurrency 2), and the run ends promptly.
  test('an early 413 then FIN (still reading): each request is the 413 or closed, none lost', async () => {
    server = await startHostileServer((socket) => {
      if (!socket.writableEnded) socket.end('HTTP/1.1 413 X\r\ncontent-length: 4\r\n\r\nnope');
    });
    const started = performance.now();
    const result = await runLoad({ url: server.url, method: 'POST', body: BIG, requests: 4, concurrency: 2, timeout: '5s' });
    expectCountsAddUp(result, 4);
    expect(result.requests.ok).toBe(0);
    for (const name of Object.keys(result.errors)) expect(['status:413', 'closed']).toContain(name);
    expect(result.errors['status:413']).toBeGreaterThanOrEqual(2);
    expect(result.statusCodes).toEqual({ '413': result.errors['status:413'] });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test('an early 413 followed by an abortive close (unread body → RST) is classified and counted', async () => {
    server = await startHostileServer((socket) => {
      socket.write('HTTP/1.1 413 X\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope', () => socket.destroy());
    });
    const started = performance.now();
    const result = await runLoad({ url: server.url, method: 'POST', body: BIG, requests: 4, concurrency: 2, timeout: '5s' });
    expectCountsAddUp(result, 4);
    // Racy by nature (the RST may reach the client before the response is parsed): each request is
    // either the 413 or a reset/closed/body; never anything else, never lost.
    for (const name of Object.keys(result.errors)) expect(['status:413', 'reset', 'closed', 'body']).toContain(name);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test('a node http server that answers 413 without reading the body: the 413 is recorded', async () => {
    server = await startServer((_req, res) => res.writeHead(413, { 'content-type': 'text/plain' }).end('too big'));
    const result = await runLoad({ url: server.url, method: 'POST', body: BIG, requests: 4, concurrency: 2, timeout: '5s' });
    expectCountsAddUp(result, 4);
    expect(result.errors).toEqual({ 'status:413': 4 });
  });

  // A server that answers and then closes the connection. With `connection: close` undici reconnects
  // for the next request: all pass. Without it (FIN only), resil re-dispatches inside onComplete, which
  // defeats undici's idle-socket validation: the next request is written onto the closing socket and
  // fails as closed, so today about every other request fails. Asserted: nothing but ok/closed, at
  // least half ok (exactly half today; all once the re-dispatch is deferred), and no stall.
  test('answer then close with `connection: close`: every request passes', async () => {
    server = await startHostileServer((socket) => socket.end('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok'));
    const result = await runLoad({ url: server.url, requests: 10, concurrency: 1, timeout: '5s' });
    expect(result.requests).toEqual({ total: 10, ok: 10, failed: 0, cancelled: 0, dropped: 0 });
    expect(server.seen).toBe(10);
  });

  test('answer then FIN without `connection: close`: only ok or closed, at least half ok', async () => {
    server = await startHostileServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    const result = await runLoad({ url: server.url, requests: 10, concurrency: 1, timeout: '5s' });
    expectCountsAddUp(result, 10);
    expect(result.requests.ok).toBeGreaterThanOrEqual(5);
    expect(Object.keys(result.errors).filter((name) => name !== 'closed')).toEqual([]);
  });

  // ---- 7. Accepts and never sends -------------------------------------------------------------
  test('a server that accepts and never sends a byte is timeout, within 20% of --timeout', async () => {
    const hangUps: number[] = [];
    server = await startHostileServer((socket) => {
      const t0 = performance.now();
      socket.once('close', () => hangUps.push(performance.now() - t0));
    });
    const started = performance.now();
    const waited = cpuWait();
    const timedOut = recordTimeouts();
    const result = await runLoad({ url: server.url, requests: 4, concurrency: 4, timeout: TIMEOUT_MS });
    const elapsed = performance.now() - started;
    const lives = timedOut();
    expect(result.requests).toEqual({ total: 4, ok: 0, failed: 4, cancelled: 0, dropped: 0 });
    expect(result.errors).toEqual({ timeout: 4 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expectTimeouts(lives, hangUps, 4, waited());
    expect(elapsed).toBeLessThan(TIMEOUT_MS * 1.2 + 100 + waited());
  });

  // ---- 8. Many hostile responses in one run ---------------------------------------------------
  // 2,000 requests at concurrency 20; the server picks a behaviour from the request number in the
  // path (/{{i}}; the closed model numbers requests 0..1999 in order), so every class count is exact.
  // --timeout is 2 s: every answer but the silent ones is immediate, yet on a starved machine an
  // immediate answer on a new connection was seen to take up to 470 ms (load average 12 on 2 CPUs), and
  // one that took longer than the timeout would be miscounted as timeout. The 10 silent requests come
  // early (the first 200) and hold at most half the connections, so their 2 s overlap the rest of the
  // run instead of stalling it.
  test('2,000 requests mixing every behaviour: exact counts per class, errors add up, bounded time', async () => {
    const behaviours: Array<(socket: Socket) => void> = [
      /* 0 ok */ (s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
      /* 1 garbage status */ (s) => s.write('HTTP/1.1 2x0 OK\r\n\r\n'),
      /* 2 header overflow */ (s) =>
        s.write(`HTTP/1.1 200 OK\r\n${'x-pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(600)}`),
      /* 3 cut mid-body */ (s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort', () => s.destroy()),
      /* 4 chunked cut mid-chunk */ (s) => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n40\r\nshort', () => s.destroy()),
      /* 5 reset */ (s) => s.resetAndDestroy(),
      /* 6 closed, no response */ (s) => s.end(),
      /* 7 503 */ (s) => s.write('HTTP/1.1 503 Busy\r\ncontent-length: 4\r\n\r\nbusy'),
      /* 8 bad chunk size */ (s) => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\n'),
      /* 9 silent (timeout) on i%20 == 9 below 200, else ok */ () => {},
    ];
    server = await startHostileServer((socket, head) => {
      const i = head.index;
      if (i % 20 === 19 || (i % 10 === 9 && i >= 200)) behaviours[0]!(socket);
      else behaviours[i % 10]!(socket);
    });
    const started = performance.now();
    const waited = cpuWait();
    const result = await runLoad({ url: `${server.url}/{{i}}`, requests: 2000, concurrency: 20, timeout: '2s' });
    const elapsed = performance.now() - started;
    expectCountsAddUp(result, 2000);
    expect(result.requests.ok).toBe(390);
    expect(result.errors).toEqual({ other: 600, body: 400, reset: 200, closed: 200, 'status:503': 200, timeout: 10 });
    expect(server.seen).toBe(2000);
    // Bound: the last silent request is due within the first 200 and holds its connection 2 s;
    // observed ~3 s on a quiet 2-CPU machine (1,700 of the requests need a new connection); allow 15 s,
    // plus the time other processes kept this one off the CPU (15.1-17.3 s at load average 10-12).
    expect(elapsed).toBeLessThan(15_000 + waited());
  });
});
