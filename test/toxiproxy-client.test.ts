import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { type Latency, Toxiproxy, ToxiproxyError, type ICreateToxicBody } from 'toxiproxy-node-client';
import { startToxiproxyApi, type ToxiproxyApi } from '../src/proxy/toxiproxy/api.js';

/** A round trip with no latency toxic on (ms): loose for a loaded box; every latency toxic here is 250 ms or more. */
const UNDELAYED_MS = 200;

// Toxiproxy's own Node client (toxiproxy-node-client 4.1, from npm) drives resil exactly as its users'
// tests drive Toxiproxy: create a proxy, add, read, update and remove toxics, disable and enable,
// populate, reset, read the version. The traffic goes through a real TCP echo server.

// Latencies are checked less 2 ms: libuv's loop clock is truncated to whole ms, so a timer can end early by performance.now().

/** Writes 32 bytes on a fresh connection to `address`; resolves with the ms until they came back. */
function roundTrip(address: string): Promise<number> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(address.slice(colon + 1)), address.slice(0, colon));
    let got = 0;
    let started = 0;
    socket.once('connect', () => {
      started = performance.now();
      socket.write(Buffer.alloc(32, 'y'));
    });
    socket.on('data', (chunk) => {
      got += chunk.length;
      if (got >= 32) {
        resolve(performance.now() - started);
        socket.destroy();
      }
    });
    socket.on('error', reject);
  });
}

describe('toxiproxy-node-client against resil', () => {
  let echo: Server;
  let echoPort: number;
  const sockets = new Set<Socket>();
  let api: ToxiproxyApi;
  let toxiproxy: Toxiproxy;

  beforeAll(async () => {
    echo = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as AddressInfo).port;
    api = await startToxiproxyApi({ listen: '127.0.0.1:0', seed: 1 });
    toxiproxy = new Toxiproxy(api.url);
  });
  afterAll(async () => {
    await api.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  test('proxies and toxics, as its README and helpers use them', async () => {
    expect(JSON.parse(await toxiproxy.getVersion())).toMatchObject({ version: expect.stringMatching(/^2\./) });

    const proxy = await toxiproxy.createProxy({ name: 'redis', listen: 'localhost:0', upstream: `localhost:${echoPort}` });
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(proxy.enabled).toBe(true);
    expect(await roundTrip(proxy.listen)).toBeLessThan(UNDELAYED_MS);
    await expect(toxiproxy.createProxy({ name: 'redis', listen: 'localhost:0', upstream: `localhost:${echoPort}` })).rejects.toThrow(
      ToxiproxyError,
    );

    const body = <ICreateToxicBody<Latency>>{ type: 'latency', attributes: { latency: 120, jitter: 0 } };
    const toxic = await proxy.addToxic(body);
    expect([toxic.name, toxic.stream, toxic.toxicity, toxic.attributes]).toEqual([
      'latency_downstream',
      'downstream',
      1,
      { latency: 120, jitter: 0 },
    ]);
    expect(await roundTrip(proxy.listen)).toBeGreaterThanOrEqual(120 - 2);
    expect((await proxy.getToxic('latency_downstream')).attributes).toEqual({ latency: 120, jitter: 0 });

    // Its update sends the whole toxic back: name, type and stream stay, attributes and toxicity change.
    const updated = await toxic.update({ ...toxic.toJson(), attributes: { latency: 250, jitter: 0 } });
    expect(updated.attributes).toEqual({ latency: 250, jitter: 0 });
    expect(await roundTrip(proxy.listen)).toBeGreaterThanOrEqual(250 - 2);
    await updated.remove();
    expect(await roundTrip(proxy.listen)).toBeLessThan(UNDELAYED_MS);
    await expect(proxy.getToxic('latency_downstream')).rejects.toThrow(/status code 404/);

    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(disabled.enabled).toBe(false);
    await expect(roundTrip(proxy.listen)).rejects.toThrow(/ECONNREFUSED/);
    const enabled = await disabled.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    expect(enabled.enabled).toBe(true);
    expect(await roundTrip(proxy.listen)).toBeLessThan(UNDELAYED_MS);

    const populated = await toxiproxy.populate([
      { name: 'redis', listen: proxy.listen, upstream: proxy.upstream },
      { name: 'mysql', listen: 'localhost:0', upstream: `localhost:${echoPort}` },
    ]);
    expect(Object.keys(populated).sort()).toEqual(['mysql', 'redis']);
    expect(populated.redis!.listen).toBe(proxy.listen);
    await (await toxiproxy.get('mysql')).addToxic(<ICreateToxicBody<Latency>>{ type: 'latency', attributes: { latency: 300, jitter: 0 } });
    await populated.mysql!.update({ enabled: false, listen: populated.mysql!.listen, upstream: populated.mysql!.upstream });

    await toxiproxy.reset();
    const all = await toxiproxy.getAll();
    expect(Object.keys(all).sort()).toEqual(['mysql', 'redis']);
    expect(all.mysql!.enabled).toBe(true);
    expect(await roundTrip(all.mysql!.listen)).toBeLessThan(UNDELAYED_MS);

    // Its test helper's clean-up: every proxy removed.
    for (const each of Object.values(all)) await each.remove();
    expect(await toxiproxy.getAll()).toEqual({});
    await expect(toxiproxy.get('redis')).rejects.toThrow(/status code 404/);
  });
});
