import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { checkToxic } from '../src/faults/toxics/registry.js';
import type { ToxicSpec } from '../src/faults/toxics/toxic.js';
import { startChaosProxy } from '../src/proxy/proxy.js';
import { startTcpProxy } from '../src/proxy/tcp/proxy.js';
import type { TcpProxy, TcpProxyOptions } from '../src/proxy/tcp/tcp-proxy.js';
import { sleep } from './helpers/wait.js';
import { spawn } from 'node:child_process';
import { BIN, outputMatches, runCli, userEnv } from './helpers/cli.js';

// The TCP proxy with real sockets on 127.0.0.1: bytes exact both ways, each toxic's effect timed on
// the client, toxicity drawn from the seed, faults on open connections at window edges, the listener.

/** An echo server: what a connection sends comes back; its FIN is answered with one. */
async function startEcho(): Promise<{ server: Server; port: number; connections: number }> {
  const state = { server: undefined as unknown as Server, port: 0, connections: 0 };
  state.server = createServer({ allowHalfOpen: true }, (socket) => {
    state.connections++;
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

/**
 * Tolerance for timed effects: never less than asked, up to 150 ms more on a loaded 2-core box (a
 * doubled latency or a missed timer still fails). Also the bound of a round trip with no fault.
 */
const SLACK_MS = 150;

let echo: Awaited<ReturnType<typeof startEcho>>;
let proxy: TcpProxy | undefined;
const clients: Socket[] = [];

beforeAll(async () => {
  echo = await startEcho();
});
afterAll(() => new Promise<void>((resolve) => echo.server.close(() => resolve())));
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await proxy?.close();
  proxy = undefined;
});

async function tcpProxy(options: Partial<TcpProxyOptions> = {}): Promise<TcpProxy> {
  proxy = await startTcpProxy({ upstream: `tcp://127.0.0.1:${echo.port}`, seed: 1, ...options });
  return proxy;
}

function toxic(type: string, attributes: Record<string, number>, more: Partial<ToxicSpec> = {}): ToxicSpec {
  return { name: `${type}_downstream`, type, stream: 'downstream', toxicity: 1, attributes, ...more };
}

/** A connected client through the proxy, with everything it receives collected. */
async function client(port: number): Promise<{ socket: Socket; received: () => Buffer; chunks: () => number; closed: Promise<string> }> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  clients.push(socket);
  const parts: Buffer[] = [];
  socket.on('data', (data: Buffer) => parts.push(data));
  const closed = new Promise<string>((resolve) => {
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    socket.on('close', () => resolve('close'));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => Buffer.concat(parts), chunks: () => parts.length, closed };
}

/** Sends `data` and waits until as many bytes came back (ms taken), within `timeoutMs`. */
async function roundTrip(c: Awaited<ReturnType<typeof client>>, data: Buffer, timeoutMs = 5000): Promise<number> {
  const before = c.received().length;
  const started = performance.now();
  c.socket.write(data);
  const done = await waitForQuick(() => c.received().length >= before + data.length, timeoutMs);
  if (!done) throw new Error(`only ${c.received().length - before} of ${data.length} bytes came back within ${timeoutMs} ms`);
  return performance.now() - started;
}

/** waitFor at 1 ms steps, for round trips timed to a few ms. */
async function waitForQuick(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) return false;
    await sleep(1);
  }
  return true;
}

describe('pass-through', () => {
  test('every byte arrives unchanged both ways, and the counts are exact', async () => {
    const p = await tcpProxy();
    const c = await client(p.port);
    const payload = randomBytes(3 * 1024 * 1024);
    c.socket.end(payload);
    expect(await c.closed).toBe('close');
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(digest(c.received())).toBe(digest(payload));
    const stats = p.stats();
    expect(stats).toMatchObject({
      calls: 1,
      passedThrough: 1,
      upstreamErrors: 0,
      bytes: { upstream: payload.length, downstream: payload.length },
    });
  });

  test('a half-close passes through: the client ends its side and still reads the answer', async () => {
    const p = await tcpProxy();
    const c = await client(p.port);
    c.socket.end('last words');
    expect(await c.closed).toBe('close');
    expect(c.received().toString()).toBe('last words');
  });

  test('a dead upstream is counted as an upstream error and the client is closed, not the proxy', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    proxy = await startTcpProxy({ upstream: `tcp://127.0.0.1:${port}` });
    const c = await client(proxy.port);
    expect(['close', 'ECONNRESET']).toContain(await c.closed);
    expect(proxy.stats()).toMatchObject({ calls: 1, upstreamErrors: 1 });
  });

  test('startChaosProxy takes a tcp:// upstream and gives a TCP proxy', async () => {
    const p = (await startChaosProxy({ upstream: `tcp://127.0.0.1:${echo.port}`, name: 'cache' })) as TcpProxy;
    proxy = p;
    expect(p.url).toBe(`tcp://127.0.0.1:${p.port}`);
    expect(p.target).toBe(`tcp://127.0.0.1:${echo.port}`);
    const c = await client(p.port);
    await roundTrip(c, Buffer.from('ping'));
    expect(c.received().toString()).toBe('ping');
  });
});

describe('toxics', () => {
  test('latency: each round trip takes at least the latency, added downstream or upstream', async () => {
    for (const stream of ['downstream', 'upstream'] as const) {
      const p = await tcpProxy();
      p.setToxics([toxic('latency', { latency: 80, jitter: 0 }, { stream, name: stream })]);
      const c = await client(p.port);
      const ms = await roundTrip(c, Buffer.from('x'));
      expect(ms).toBeGreaterThanOrEqual(79);
      expect(ms).toBeLessThan(80 + SLACK_MS);
      await p.close();
      proxy = undefined;
    }
  });

  test('latency with jitter stays within latency ± jitter', async () => {
    const p = await tcpProxy();
    p.setToxics([toxic('latency', { latency: 60, jitter: 30 })]);
    const c = await client(p.port);
    const times: number[] = [];
    for (let i = 0; i < 12; i++) times.push(await roundTrip(c, Buffer.from('x')));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(29);
    expect(Math.max(...times)).toBeLessThan(90 + SLACK_MS);
    // Spread, not one fixed delay: 12 uniform draws over 60 ms span more than 10 ms.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(10);
  });

  test('bandwidth: 200 kB at 200 KB/s take 1 s, within 10%', async () => {
    const p = await tcpProxy();
    p.setToxics([toxic('bandwidth', { rate: 200 })]);
    const c = await client(p.port);
    const ms = await roundTrip(c, randomBytes(200_000));
    expect(ms).toBeGreaterThanOrEqual(1000 * 0.9);
    expect(ms).toBeLessThan(1000 * 1.1);
  });

  test('two latency toxics on one stream add up, as in Toxiproxy', async () => {
    const p = await tcpProxy();
    p.setToxics([
      toxic('latency', { latency: 100, jitter: 0 }, { name: 'a' }),
      toxic('latency', { latency: 100, jitter: 0 }, { name: 'b' }),
    ]);
    const c = await client(p.port);
    const ms = await roundTrip(c, Buffer.from('x'));
    expect(ms).toBeGreaterThanOrEqual(200);
    expect(ms).toBeLessThan(200 + SLACK_MS);
  });

  test('limit_data before a latency toxic: its bytes still come through the latency, then the close', async () => {
    const p = await tcpProxy();
    p.setToxics([toxic('limit_data', { bytes: 3 }, { name: 'cut' }), toxic('latency', { latency: 100, jitter: 0 }, { name: 'slow' })]);
    const c = await client(p.port);
    c.socket.write('abcdef');
    expect(await c.closed).toBe('close');
    expect(c.received().toString()).toBe('abc');
  });

  test('attributes are whole numbers in range: a fractional slicer or an endless latency is refused', () => {
    expect(() => checkToxic({ type: 'slicer', attributes: { average_size: 0.5 } })).toThrow(/whole number/);
    expect(() => checkToxic({ type: 'bandwidth', attributes: { rate: 0.005 } })).toThrow(/whole number/);
    expect(() => checkToxic({ type: 'latency', attributes: { latency: 99999999999000 } })).toThrow(/from 0 to 604800000/);
  });

  test('slow_close: the data comes at once, the close only after the delay', async () => {
    const p = await tcpProxy();
    p.setToxics([toxic('slow_close', { delay: 300 })]);
    const c = await client(p.port);
    const started = performance.now();
    c.socket.end('bye');
    expect(await waitForQuick(() => c.received().length === 3, 200)).toBe(true);
    expect(performance.now() - started).toBeLessThan(200);
    await c.closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(299);
  });

  test('timeout: no data comes back and the connection is closed after the timeout', async () => {
    const p = await tcpProxy();
    p.setToxics([toxic('timeout', { timeout: 250 })]);
    const started = performance.now();
    const c = await client(p.port);
    c.socket.write('anyone?');
    expect(await c.closed).toBe('close');
    expect(performance.now() - started).toBeGreaterThanOrEqual(249);
    expect(performance.now() - started).toBeLessThan(250 + SLACK_MS);
    expect(c.received().length).toBe(0);
  });

  test('timeout 0: the connection is held, silent, until the client leaves', async () => {
    const p = await tcpProxy();
    p.setToxics([toxic('timeout', { timeout: 0 })]);
    const c = await client(p.port);
    c.socket.write('anyone?');
    const outcome = await Promise.race([c.closed, sleep(400).then(() => 'still open')]);
    expect(outcome).toBe('still open');
    expect(c.received().length).toBe(0);
  });

  test('reset_peer: a TCP RST the timeout after the first data', async () => {
    const p = await tcpProxy();
    p.setToxics([toxic('reset_peer', { timeout: 150 })]);
    const c = await client(p.port);
    await sleep(100); // no data yet: nothing happens
    const started = performance.now();
    c.socket.write('x');
    expect(await c.closed).toBe('ECONNRESET');
    expect(performance.now() - started).toBeGreaterThanOrEqual(149);
    expect(performance.now() - started).toBeLessThan(150 + SLACK_MS);
  });

  test('slicer: the bytes arrive intact in many small pieces', async () => {
    const p = await tcpProxy();
    p.setToxics([toxic('slicer', { average_size: 100, size_variation: 20, delay: 2000 })]);
    const c = await client(p.port);
    const payload = randomBytes(4000);
    const ms = await roundTrip(c, payload);
    expect(c.received().equals(payload)).toBe(true);
    // 4,000 bytes in pieces of 80..120 bytes: at least 33 pieces; 2 ms apart, so at least 64 ms.
    expect(c.chunks()).toBeGreaterThanOrEqual(20);
    expect(ms).toBeGreaterThanOrEqual(64);
  });

  test('limit_data: exactly that many bytes, then the connection is closed', async () => {
    const p = await tcpProxy();
    p.setToxics([toxic('limit_data', { bytes: 1000 })]);
    const c = await client(p.port);
    c.socket.write(randomBytes(5000));
    expect(await c.closed).toBe('close');
    expect(c.received().length).toBe(1000);
  });
});

describe('live toxics and the seed', () => {
  test('a toxic added to an open connection takes hold, and one removed passes on what it held at once', async () => {
    const p = await tcpProxy();
    const c = await client(p.port);
    expect(await roundTrip(c, Buffer.from('a'))).toBeLessThan(SLACK_MS);
    p.setToxics([toxic('latency', { latency: 5000, jitter: 0 })]);
    const started = performance.now();
    c.socket.write('b');
    await sleep(100);
    expect(c.received().toString()).toBe('a');
    p.setToxics([]);
    // The held byte is passed on when the toxic goes, not 5 s later.
    expect(await waitForQuick(() => c.received().toString() === 'ab', 1000)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(p.stats().injected).toEqual({ latency_downstream: 1 });
  });

  test('toxicity is the chance per connection, drawn from the seed: same seed, same connections', async () => {
    const delayed = async (seed: number): Promise<boolean[]> => {
      const p = await tcpProxy({ seed });
      p.setToxics([toxic('limit_data', { bytes: 0 }, { toxicity: 0.3 })]);
      const outcomes: boolean[] = [];
      for (let i = 0; i < 200; i++) {
        const c = await client(p.port);
        c.socket.write('x');
        // limit_data 0 closes at once; the others echo.
        const got = await Promise.race([
          c.closed.then(() => 'closed'),
          waitForQuick(() => c.received().length === 1, 2000).then(() => 'echo'),
        ]);
        outcomes.push(got === 'closed' && c.received().length === 0);
        c.socket.destroy();
      }
      expect(p.stats().injected.limit_data_downstream).toBe(outcomes.filter(Boolean).length);
      await p.close();
      proxy = undefined;
      return outcomes;
    };
    const first = await delayed(7);
    const hits = first.filter(Boolean).length;
    // Binomial(200, 0.3): mean 60, sigma 6.5; within 3 sigma.
    expect(Math.abs(hits - 60)).toBeLessThanOrEqual(20);
    expect(await delayed(7)).toEqual(first);
  }, 30_000);
});

describe('fault settings', () => {
  test('a fault window takes hold of the connections already open, and lets go at its end', async () => {
    const p = await tcpProxy({ faults: 'latency:300ms', windows: ['300ms..1300ms'] });
    const c = await client(p.port);
    p.startSchedule();
    expect(await roundTrip(c, Buffer.from('1'))).toBeLessThan(SLACK_MS);
    await sleep(350);
    expect(await roundTrip(c, Buffer.from('2'))).toBeGreaterThanOrEqual(300);
    await sleep(750);
    expect(await roundTrip(c, Buffer.from('3'))).toBeLessThan(SLACK_MS);
    expect(p.stats().injected).toEqual({ 'latency:300ms': 1 });
  });

  test('fault settings changed while a connection is open replace its fault', async () => {
    const p = await tcpProxy({ faults: 'latency:200ms' });
    const c = await client(p.port);
    expect(await roundTrip(c, Buffer.from('1'))).toBeGreaterThanOrEqual(200);
    p.setFaults({ faults: 'latency:500ms', seed: 1 });
    expect(await roundTrip(c, Buffer.from('2'))).toBeGreaterThanOrEqual(500);
    p.setFaults({ faults: 'reset_peer', seed: 1 });
    c.socket.write('3');
    expect(await c.closed).toBe('ECONNRESET');
  });

  test('a timeout window that ends closes the connection: the bytes it dropped are not skipped over', async () => {
    const p = await tcpProxy({ faults: 'timeout', windows: ['0ms..300ms'] });
    p.startSchedule();
    const c = await client(p.port);
    c.socket.write('GET1;');
    const outcome = await Promise.race([c.closed, sleep(300 + 1000).then(() => 'still open')]);
    expect(outcome).toBe('close');
    expect(c.received().length).toBe(0);
  });

  test('the failure rate draws per connection from the seed, on the stream asked for', async () => {
    const p = await tcpProxy({ failureRate: 0.5, faults: 'reset_peer', stream: 'upstream', seed: 3 });
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const c = await client(p.port);
      c.socket.write('x');
      outcomes.push(await Promise.race([c.closed, waitForQuick(() => c.received().length === 1, 2000).then(() => 'echo')]));
      c.socket.destroy();
    }
    const resets = outcomes.filter((o) => o === 'ECONNRESET').length;
    expect(resets).toBe(p.stats().injected.reset_peer);
    expect(resets + outcomes.filter((o) => o === 'echo').length).toBe(40);
    expect(resets).toBeGreaterThan(8);
    expect(resets).toBeLessThan(32);
  });

  test('down: the listener is closed in the window and open again after it', async () => {
    const p = await tcpProxy({ faults: 'down', windows: ['100ms..400ms'] });
    const before = await client(p.port);
    p.startSchedule();
    expect(['close', 'ECONNRESET']).toContain(await before.closed);
    await expect(client(p.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await sleep(400);
    const after = await client(p.port);
    expect(await roundTrip(after, Buffer.from('back'))).toBeLessThan(100);
    expect(p.stats().injected).toEqual({ down: 1 });
  });

  test("setEnabled(false) is Toxiproxy's enabled: refused until enabled again, on the same port", async () => {
    const p = await tcpProxy();
    const port = p.port;
    await p.setEnabled(false);
    await expect(client(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await p.setEnabled(true);
    expect(p.port).toBe(port);
    await roundTrip(await client(port), Buffer.from('up'));
  });

  test('HTTP faults, targeting and HTTP-only options are refused for a tcp:// upstream, naming why', async () => {
    await expect(startTcpProxy({ upstream: 'tcp://127.0.0.1:1', faults: 'status:503' })).rejects.toThrow(
      "fault 'status' needs an HTTP upstream",
    );
    await expect(startTcpProxy({ upstream: 'tcp://127.0.0.1:1', faults: 'latency:1ms', matchPath: '/x' })).rejects.toThrow(
      '--match-path needs an HTTP upstream',
    );
    await expect(startTcpProxy({ upstream: 'tcp://127.0.0.1:1', faults: 'slicer:10~10' })).rejects.toThrow('variation below the size');
    await expect(startChaosProxy({ upstream: 'tcp://127.0.0.1:1', mock: {} })).rejects.toThrow('--mock needs an HTTP upstream');
    await expect(startTcpProxy({ upstream: 'tcp://127.0.0.1' })).rejects.toThrow('expected tcp://HOST:PORT');
  });
});

describe('resil proxy --upstream tcp://', () => {
  test('forwards bytes, and prints connections and bytes when stopped', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'proxy', '--upstream', `tcp://127.0.0.1:${echo.port}`, '--faults', 'latency:20ms', '--seed', '5'],
      {
        env: userEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    expect(await outputMatches(child, /listening on tcp:\/\/127\.0\.0\.1:\d+/, 'stdout')).toBe(true);
    const port = Number(/tcp:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]);
    const c = await client(port);
    expect(await roundTrip(c, Buffer.from('hello'))).toBeGreaterThanOrEqual(19);
    c.socket.destroy();
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).toContain('→ tcp://127.0.0.1:');
    expect(stdout).toMatch(/connections 1 · passed through 1 · injected latency:20ms 1 · upstream errors 0 · 5 B up · 5 B down/);
  });

  test('an HTTP fault for a TCP upstream is one line and exit code 2', async () => {
    const run = await runCli(['proxy', '--upstream', 'tcp://127.0.0.1:6379', '--faults', 'status:503']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain("fault 'status' needs an HTTP upstream");
  });
});

describe('backpressure', () => {
  /** An origin that sends as fast as its socket takes it, up to 256 MB; how much it got out so far. */
  async function firehose(): Promise<{ server: Server; port: number; sent: () => number }> {
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 7);
    const server = createServer((socket) => {
      socket.on('error', () => {});
      const pump = () => {
        while (sent < 256 * 1024 * 1024 && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as AddressInfo).port, sent: () => sent };
  }

  // A client that stops reading must stop the origin too: the proxy holds at most its 1 MiB per link
  // plus the sockets' kernel buffers, never the whole stream. Measured: about 5 MB got out on loopback.
  test.each([
    ['no toxic', [] as ToxicSpec[]],
    ['a latency toxic', [toxic('latency', { latency: 5, jitter: 0 })]],
  ])('a reader that stops holds the origin back (%s)', async (_label, toxics) => {
    const origin = await firehose();
    try {
      proxy = await startTcpProxy({ upstream: `tcp://127.0.0.1:${origin.port}` });
      proxy.setToxics(toxics);
      const c = await client(proxy.port);
      c.socket.pause();
      await sleep(500);
      const held = origin.sent();
      await sleep(300);
      // Stalled: nothing more got out, and far less than the 256 MB the origin wanted to send.
      expect(origin.sent()).toBe(held);
      expect(held).toBeLessThan(32 * 1024 * 1024);
      // Reading again lets it flow.
      c.socket.resume();
      expect(await waitForQuick(() => origin.sent() > held + 8 * 1024 * 1024, 3000)).toBe(true);
    } finally {
      await proxy?.close();
      proxy = undefined;
      await new Promise<void>((resolve) => origin.server.close(() => resolve()));
    }
  });
});
