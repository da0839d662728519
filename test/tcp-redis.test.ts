import { Redis, type RedisOptions } from 'ioredis';
import type { ToxicSpec } from '../src/faults/toxics/toxic.js';
import { startChaosProxy } from '../src/proxy/proxy.js';
import type { TcpProxy, TcpProxyOptions } from '../src/proxy/tcp/tcp-proxy.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

// A real Redis (Debian's redis-server, private to this file) behind resil's TCP proxy, used through a
// real client (ioredis 5): each fault's effect as the client sees it. Faults are applied both ways
// resil offers: fault settings on a new proxy (one decision per connection) and Toxiproxy's toxics
// set on a proxy while the client's connection is open (the toxic takes hold of that connection).
//
// Timing tolerance: a delay may show up to 1 ms short (Node's timers count whole milliseconds from the
// event loop's cached clock); upper bounds only catch a fault applied twice or not at all.
const EARLY_MS = 1;

let redis: TestRedis;
let direct: Redis;
const proxies: TcpProxy[] = [];
const clients: Redis[] = [];
/** 1 MB, 4 MB and 20 KB values, set directly in Redis before the tests. */
const MB = 'm'.repeat(1_000_000);
const FOUR_MB = Buffer.alloc(4_000_000, 'b');
const SLICED = Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');

beforeAll(async () => {
  redis = await startRedis();
  direct = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
  await direct.connect();
  await direct.set('small', 'hello');
  await direct.set('mb', MB);
  await direct.set('four-mb', FOUR_MB);
  await direct.set('sliced', SLICED);
});

afterAll(async () => {
  // The proxies first: they close every connection, held ones included; then the clients have nothing left to wait for.
  await Promise.all(proxies.map((proxy) => proxy.close()));
  for (const client of clients) client.disconnect();
  direct?.disconnect();
  await redis?.stop();
});

async function tcpProxy(options: Omit<TcpProxyOptions, 'upstream'> = {}): Promise<TcpProxy> {
  const proxy = (await startChaosProxy({ upstream: redis.upstream, seed: 7, ...options })) as TcpProxy;
  proxies.push(proxy);
  return proxy;
}

interface Client {
  redis: Redis;
  /** Errors the client emitted ('error' events: the socket's own errors, ECONNRESET...). */
  errors: Error[];
  /** Times (performance.now(), ms) the client's connection closed. */
  closedAt: number[];
  connects: number;
}

/**
 * An ioredis client through the proxy that reports what happened instead of hiding it: no reconnect,
 * no resend, no offline queue, no ready check (its INFO would count against byte limits).
 */
async function connectClient(port: number, options: RedisOptions = {}): Promise<Client> {
  const client = newClient(port, options);
  await client.redis.connect();
  return client;
}

function newClient(port: number, options: RedisOptions = {}): Client {
  const redisClient = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: () => null,
    disableClientInfo: true, // no CLIENT SETINFO on connect: only the test's commands cross the proxy
    ...options,
  });
  clients.push(redisClient);
  const client: Client = { redis: redisClient, errors: [], closedAt: [], connects: 0 };
  redisClient.on('error', (error: Error) => client.errors.push(error));
  redisClient.on('close', () => client.closedAt.push(performance.now()));
  redisClient.on('connect', () => client.connects++);
  return client;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const startMs = performance.now();
  const value = await work();
  return { value, ms: performance.now() - startMs };
}

/** The error a promise rejected with, and when (ms after the call); fails when it resolves. */
async function rejection(work: () => Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const startMs = performance.now();
  try {
    await work();
  } catch (error) {
    return { error: error as Error, ms: performance.now() - startMs };
  }
  throw new Error('expected the command to fail, but it succeeded');
}

function toxic(type: string, attributes: Record<string, number>, stream: ToxicSpec['stream'] = 'downstream'): ToxicSpec {
  return { name: `${type}_${stream}`, type, stream, toxicity: 1, attributes };
}

const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function pingTimes(client: Redis, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push((await timed(() => client.ping())).ms);
  return times;
}

describe('Redis behind the TCP proxy, through ioredis', () => {
  test('without faults the proxy passes commands and a 1 MB value through, and counts the connection', async () => {
    const proxy = await tcpProxy();
    const { redis: client } = await connectClient(proxy.port);
    expect(await client.set('through', 'proxy')).toBe('OK');
    expect(await direct.get('through')).toBe('proxy');
    expect(await client.get('mb')).toBe(MB);
    expect(proxy.stats().calls).toBe(1);
  });

  test('latency from the fault settings (faults: latency:50ms) adds at least 50 ms to every round trip, either stream', async () => {
    const directMs = medianOf(await pingTimes(direct, 5));
    for (const stream of ['downstream', 'upstream'] as const) {
      const proxy = await tcpProxy({ faults: 'latency:50ms', stream });
      const { redis: client } = await connectClient(proxy.port);
      const times = await pingTimes(client, 5);
      for (const ms of times) expect(ms).toBeGreaterThanOrEqual(50 - EARLY_MS);
      // Applied once, not on both streams: well under 100 ms more than a direct round trip.
      expect(medianOf(times) - directMs).toBeLessThan(95);
      expect(proxy.stats().injected).toEqual({ 'latency:50ms': 1 });
    }
  });

  test('a latency toxic set while the connection is open slows that connection, and removing it restores it', async () => {
    const proxy = await tcpProxy();
    const client = await connectClient(proxy.port);
    // Without the toxic a ping is well under 150 ms even on a loaded box; with it, 200 ms at least.
    expect(medianOf(await pingTimes(client.redis, 3))).toBeLessThan(150);
    proxy.setToxics([toxic('latency', { latency: 200, jitter: 0 })]);
    for (const ms of await pingTimes(client.redis, 3)) expect(ms).toBeGreaterThanOrEqual(200 - EARLY_MS);
    proxy.setToxics([]);
    expect(medianOf(await pingTimes(client.redis, 3))).toBeLessThan(150);
    // Still the one connection it opened at the start.
    expect(client.connects).toBe(1);
    expect(proxy.stats().calls).toBe(1);
  });

  test('a bandwidth toxic of 2,000 KB/s caps a 4 MB GET within 10% of the rate', async () => {
    const proxy = await tcpProxy();
    const { redis: client } = await connectClient(proxy.port);
    proxy.setToxics([toxic('bandwidth', { rate: 2000 })]);
    const { value, ms } = await timed(() => client.getBuffer('four-mb'));
    expect(value?.equals(FOUR_MB)).toBe(true);
    const kbPerS = FOUR_MB.length / ms; // bytes per ms = KB/s
    expect(Math.abs(kbPerS - 2000) / 2000).toBeLessThanOrEqual(0.1);
  });

  test('limit_data lets small answers through, then cuts a large value: the client reports its connection closed', async () => {
    const proxy = await tcpProxy({ faults: 'limit_data:10000' });
    const client = await connectClient(proxy.port);
    expect(await client.redis.get('small')).toBe('hello');
    const { error } = await rejection(() => client.redis.get('mb'));
    expect(error.message).toBe('Connection is closed.');
    expect(client.closedAt).toHaveLength(1);
  });

  test('reset_peer set on an open connection surfaces as ECONNRESET on the client', async () => {
    const proxy = await tcpProxy();
    const client = await connectClient(proxy.port);
    expect(await client.redis.get('small')).toBe('hello');
    proxy.setToxics([toxic('reset_peer', { timeout: 0 })]);
    const { error } = await rejection(() => client.redis.get('small'));
    expect(error.message).toBe('Connection is closed.');
    expect(client.errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ECONNRESET']);
  });

  test('reset_peer at a failure rate of 0.5 resets the connections the seed picks, the same ones again with the same seed', async () => {
    const outcomes = async () => {
      const proxy = await tcpProxy({ failureRate: 0.5, faults: 'reset_peer', seed: 13 });
      const pattern: string[] = [];
      for (let i = 0; i < 16; i++) {
        const client = await connectClient(proxy.port);
        try {
          pattern.push(await client.redis.ping());
        } catch {
          pattern.push(client.errors.map((e) => (e as NodeJS.ErrnoException).code).join() || 'no error event');
        }
        client.redis.disconnect();
      }
      return { pattern, injected: proxy.stats().injected };
    };
    const first = await outcomes();
    const resets = first.pattern.filter((p) => p === 'ECONNRESET').length;
    expect(first.pattern.filter((p) => p !== 'ECONNRESET' && p !== 'PONG')).toEqual([]);
    expect(resets).toBeGreaterThan(0);
    expect(resets).toBeLessThan(16);
    expect(first.injected).toEqual({ reset_peer: resets });
    expect((await outcomes()).pattern).toEqual(first.pattern);
  });

  test("a timeout toxic that holds the data makes the client's own command timeout fire", async () => {
    const proxy = await tcpProxy();
    const client = await connectClient(proxy.port, { commandTimeout: 200 });
    expect(await client.redis.get('small')).toBe('hello');
    proxy.setToxics([toxic('timeout', { timeout: 0 })]);
    const { error, ms } = await rejection(() => client.redis.get('small'));
    expect(error.message).toBe('Command timed out');
    expect(ms).toBeGreaterThanOrEqual(200 - EARLY_MS);
  });

  test('timeout:300ms from the fault settings closes the connection 300 ms after it opened', async () => {
    const proxy = await tcpProxy({ faults: 'timeout:300ms' });
    const openedMs = performance.now();
    const client = await connectClient(proxy.port);
    const { error } = await rejection(() => client.redis.ping());
    expect(error.message).toBe('Connection is closed.');
    expect(client.closedAt[0]! - openedMs).toBeGreaterThanOrEqual(300 - EARLY_MS);
    expect(client.closedAt[0]! - openedMs).toBeLessThan(1000);
  });

  test("slow_close: QUIT is answered at once, Redis's close reaches the client 300 ms later", async () => {
    const proxy = await tcpProxy({ faults: 'slow_close:300ms' });
    const client = await connectClient(proxy.port);
    const startMs = performance.now();
    expect(await client.redis.quit()).toBe('OK');
    // At once: well before the 300 ms the close is held (tolerance for a loaded box).
    expect(performance.now() - startMs).toBeLessThan(200);
    const deadline = performance.now() + 2000;
    while (client.closedAt.length === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(client.closedAt[0]! - startMs).toBeGreaterThanOrEqual(300 - EARLY_MS);
  });

  test('slicer in both directions (pieces of 32-96 bytes; their count is checked in tcp-proxy.test.ts): a 20 KB value is still stored and read intact', async () => {
    const proxy = await tcpProxy();
    const { redis: client } = await connectClient(proxy.port);
    proxy.setToxics([
      toxic('slicer', { average_size: 64, size_variation: 32, delay: 100 }, 'upstream'),
      toxic('slicer', { average_size: 64, size_variation: 32, delay: 100 }, 'downstream'),
    ]);
    expect(await client.get('sliced')).toBe(SLICED);
    expect(await client.set('sliced-copy', SLICED)).toBe('OK');
    expect(await direct.get('sliced-copy')).toBe(SLICED);
  });

  test('down (setEnabled(false)) closes the open connection and refuses new ones; enabled again, the client connects on the same port', async () => {
    const proxy = await tcpProxy();
    const client = await connectClient(proxy.port);
    const port = proxy.port;
    await proxy.setEnabled(false);
    const deadline = performance.now() + 2000;
    while (client.closedAt.length === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(client.closedAt).toHaveLength(1);
    const refused = newClient(port);
    await rejection(() => refused.redis.connect());
    expect(refused.errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ECONNREFUSED']);
    await proxy.setEnabled(true);
    expect(proxy.port).toBe(port);
    const again = await connectClient(port);
    expect(await again.redis.get('small')).toBe('hello');
  });
});
