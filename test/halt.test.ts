import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { request } from 'undici';
import { buildHaltPlan } from '../src/halt/plan.js';
import { LiveBoard } from '../src/metrics/live.js';
import { liveRegistry } from '../src/metrics/metrics-server.js';
import { startAdminServer, type AdminServer } from '../src/proxy/admin.js';
import type { ChaosProxy } from '../src/proxy/chaos-proxy.js';
import { startChaosProxy } from '../src/proxy/proxy.js';
import { startTcpProxy } from '../src/proxy/tcp/proxy.js';
import { ChaosSession } from '../src/session/chaos.js';
import { nodeCall } from './helpers/proxy.js';
import { startServer, type TestServer } from './helpers/servers.js';
import { sleep, waitFor } from './helpers/wait.js';

// Guard rails with real sockets on 127.0.0.1: fault budgets counted exactly, the kill switch on the
// admin API, a halted `down` brought back up, a TCP proxy's faults taken off open connections, and
// halt conditions (a health probe, a Prometheus instant query) that stop every proxy of a session.

const closers: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function proxyOf(options: Parameters<typeof startChaosProxy>[0]): Promise<ChaosProxy> {
  const proxy = await startChaosProxy(options);
  closers.push(() => proxy.close());
  proxy.startSchedule();
  return proxy;
}

async function statuses(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const answer = await request(url);
    await answer.body.dump();
    out.push(answer.statusCode);
  }
  return out;
}

describe('fault budgets', () => {
  test('--max-faults 7: exactly 7 faults injected, the other 43 withheld and passed through', async () => {
    const proxy = await proxyOf({ mock: {}, faults: 'status:503', maxFaults: 7, seed: 1 });
    const seen = await statuses(`${proxy.url}/x`, 50);
    expect(seen.filter((s) => s === 503)).toHaveLength(7);
    expect(seen.slice(0, 7).every((s) => s === 503)).toBe(true);
    const stats = proxy.stats();
    expect(stats.injected).toEqual({ 'status:503': 7 });
    expect(stats.withheld).toEqual({ 'status:503': 43 });
    expect(stats.passedThrough).toBe(43);
    expect(proxy.guard()).toMatchObject({ halted: false, faultsLeft: 0, faultRate: null });
  });

  test('--max-fault-rate 10%/1m: the 10th, 20th... call is faulted, 10 of 100', async () => {
    const proxy = await proxyOf({ mock: {}, faults: 'status:503', maxFaultRate: '10%/1m', seed: 1 });
    const seen = await statuses(`${proxy.url}/x`, 100);
    const faulted = seen.flatMap((s, i) => (s === 503 ? [i + 1] : []));
    expect(faulted).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(proxy.stats().withheld).toEqual({ 'status:503': 90 });
    expect(proxy.guard().faultRate).toBeCloseTo(0.1, 10);
  });

  test('the same seed gives the same decisions under a budget (a mix, a failure rate)', async () => {
    const run = async () => {
      const proxy = await proxyOf({ mock: {}, failureRate: 0.5, faults: 'status:503=1,status:429=1', maxFaults: 20, seed: 42 });
      const seen = await statuses(`${proxy.url}/x`, 80);
      return { seen, stats: proxy.stats() };
    };
    const [a, b] = [await run(), await run()];
    expect(a.seen).toEqual(b.seen);
    expect(a.stats.injected).toEqual(b.stats.injected);
    expect(a.stats.withheld).toEqual(b.stats.withheld);
    expect(Object.values(a.stats.injected).reduce((x, y) => x + y, 0)).toBe(20);
  });

  test('a TCP proxy budgets per connection: --max-faults 2 resets 2 of 5 connections', async () => {
    const echo = await startEcho();
    closers.push(() => new Promise((resolve) => echo.close(resolve)));
    const proxy = await startTcpProxy({ upstream: `tcp://127.0.0.1:${portOf(echo)}`, faults: 'reset_peer', maxFaults: 2, seed: 1 });
    closers.push(() => proxy.close());
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) outcomes.push(await echoOnce(proxy.port, 'ping'));
    expect(outcomes).toEqual(['reset', 'reset', 'ping', 'ping', 'ping']);
    expect(proxy.stats().injected).toEqual({ reset_peer: 2 });
    expect(proxy.stats().withheld).toEqual({ reset_peer: 3 });
  });

  test('bad budgets are one usage problem each', async () => {
    await expect(startChaosProxy({ mock: {}, maxFaultRate: '2%' })).rejects.toThrow(/--max-fault-rate '2%': expected RATE\/WINDOW/);
    await expect(startChaosProxy({ mock: {}, maxFaultRate: '200%/1m' })).rejects.toThrow(/must be between 0 and 1/);
    await expect(startChaosProxy({ mock: {}, maxFaultRate: '2%/100ms' })).rejects.toThrow(/1s or more/);
    await expect(startChaosProxy({ mock: {}, maxFaults: -1 })).rejects.toThrow("--max-faults: '-1' must be a whole number >= 0");
  });
});

describe('the kill switch', () => {
  let admin: AdminServer;
  const post = async (path: string) => (await request(`${admin.url}${path}`, { method: 'POST' })).body.json();
  const get = async (path: string) => (await request(`${admin.url}${path}`)).body.text();

  test('POST /halt passes every call through, counts what it withheld, and shows in GET /stats and /metrics; POST /resume injects again', async () => {
    const proxy = await proxyOf({ mock: {}, faults: 'status:503', seed: 1, name: 'openai' });
    admin = await startAdminServer(proxy, { port: 0 });
    closers.push(() => admin.close());
    expect(await statuses(`${proxy.url}/x`, 3)).toEqual([503, 503, 503]);
    const halted = (await post('/halt')) as { halted: boolean; cause: string; since: string };
    expect(halted).toMatchObject({ halted: true, cause: 'POST /halt' });
    expect(Date.now() - Date.parse(halted.since)).toBeLessThan(5000);
    expect(await statuses(`${proxy.url}/x`, 4)).toEqual([200, 200, 200, 200]);
    const stats = JSON.parse(await get('/stats')) as { injected: object; withheld: object; guard: { halted: boolean } };
    expect(stats.injected).toEqual({ 'status:503': 3 });
    expect(stats.withheld).toEqual({ 'status:503': 4 });
    expect(stats.guard.halted).toBe(true);
    const metrics = await get('/metrics');
    expect(metrics).toMatch(/^resil_proxy_halted\{provider="openai"\} 1$/m);
    expect(metrics).toMatch(/^resil_faults_withheld_total\{provider="openai",type="status:503"\} 4$/m);
    expect(await post('/resume')).toMatchObject({ halted: false, cause: null, since: null });
    expect(await statuses(`${proxy.url}/x`, 2)).toEqual([503, 503]);
    expect(await get('/metrics')).toMatch(/^resil_proxy_halted\{provider="openai"\} 0$/m);
  });

  test('a halted `down` brings the listener back at once; a resume inside the outage takes it down again', async () => {
    const upstream = await startServer();
    closers.push(() => upstream.close());
    const proxy = await proxyOf({ upstream: upstream.url, faults: 'down', seed: 1 });
    expect((await nodeCall(`${proxy.url}/x`)).error?.code).toBe('ECONNREFUSED');
    expect(proxy.halt('test')).toBe(true);
    await sleep(50); // the listener opens again asynchronously
    expect((await nodeCall(`${proxy.url}/x`)).status).toBe(200);
    expect(proxy.resume()).toBe(true);
    expect((await nodeCall(`${proxy.url}/x`)).error?.code).toBe('ECONNREFUSED');
    expect(proxy.stats().injected).toEqual({ down: 2 });
  });

  test('a `down` window that starts while halted is withheld: the listener stays up', async () => {
    const upstream = await startServer();
    closers.push(() => upstream.close());
    const proxy = await proxyOf({ upstream: upstream.url, faults: 'down', windows: ['200ms..2s'], seed: 1 });
    proxy.halt('test');
    await sleep(400);
    expect((await nodeCall(`${proxy.url}/x`)).status).toBe(200);
    expect(proxy.stats().withheld).toEqual({ down: 1 });
    expect(proxy.stats().injected).toEqual({});
  });

  test("a TCP proxy's halt takes faults and toxics off its open connections at once", async () => {
    const echo = await startEcho();
    closers.push(() => new Promise((resolve) => echo.close(resolve)));
    const proxy = await startTcpProxy({ upstream: `tcp://127.0.0.1:${portOf(echo)}`, faults: 'latency:300ms', seed: 1 });
    closers.push(() => proxy.close());
    proxy.setToxics([{ name: 'slow', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 200, jitter: 0 } }]);
    const socket = connect(proxy.port, '127.0.0.1');
    closers.push(() => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const before = await roundTrip(socket, 'a');
    expect(before).toBeGreaterThanOrEqual(500);
    proxy.halt('test');
    const after = await roundTrip(socket, 'b');
    // Tolerance: nothing held back, 100 ms for a loaded machine.
    expect(after).toBeLessThan(100);
    // A new connection carries neither while halted.
    const fresh = connect(proxy.port, '127.0.0.1');
    closers.push(() => fresh.destroy());
    await new Promise((resolve) => fresh.once('connect', resolve));
    expect(await roundTrip(fresh, 'c')).toBeLessThan(100);
    expect(proxy.stats().withheld).toEqual({ 'latency:300ms': 1 });
    proxy.resume();
    expect(await roundTrip(fresh, 'd')).toBeGreaterThanOrEqual(500);
  });
});

describe('halt conditions', () => {
  /**
   * A service that degrades under faults: /health calls its dependency through the proxy and says
   * 503 {"status":"degraded"} when the dependency failed, 200 {"status":"ok"} when it answered.
   */
  async function degradingService(dependency: () => string): Promise<TestServer> {
    const service = await startServer((_req, res) => {
      void request(`${dependency()}/dep`).then(
        async (answer) => {
          await answer.body.dump();
          const ok = answer.statusCode < 500;
          res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'degraded' }));
        },
        () => res.writeHead(503).end('{"status":"down"}'),
      );
    });
    closers.push(() => service.close());
    return service;
  }

  test('a probe trips when the service degrades: every proxy stops injecting within one probe interval plus 1 s', async () => {
    const session = await ChaosSession.start([
      { mock: {}, faults: 'status:503', windows: ['1s..60s'], seed: 1, name: 'a' },
      { mock: {}, faults: 'status:500', seed: 1, name: 'b' },
    ]);
    closers.push(() => session.stop());
    const service = await degradingService(() => session.proxy('a').url);
    const lines: string[] = [];
    const plan = buildHaltPlan({ probes: [`${service.url}/health`], every: '500ms', after: 1, json: 'status==ok' })!;
    session.runHooks({}).onStart!();
    const faultsStart = performance.now() + 1000;
    // The worst phase: the last healthy probe just before the faults begin, the next one interval later.
    await sleep(900);
    session.watchHealth(plan, (line) => lines.push(line));
    expect(await waitFor(() => session.halted !== undefined, 5000)).toBe(true);
    const haltedAfterMs = performance.now() - faultsStart;
    // Measured: the probe after the window opens; the bound is the (interval + 1 s).
    expect(haltedAfterMs).toBeLessThanOrEqual(500 + 1000);
    expect(session.halted!.atMs).toBeGreaterThanOrEqual(1000);
    expect(session.halted!.cause).toMatch(/^probe http:\/\/127\.0\.0\.1:\d+\/health: status 503 \(expected 2xx\) \(1 in a row\)$/);
    expect(lines).toEqual([expect.stringMatching(/^resil: halted at \d\.\d\ds: probe .* every proxy passes calls through$/)]);
    // Both proxies pass everything through now, and the service is healthy again.
    expect(await statuses(`${session.proxy('a').url}/x`, 3)).toEqual([200, 200, 200]);
    expect(await statuses(`${session.proxy('b').url}/x`, 3)).toEqual([200, 200, 200]);
    expect(session.facts([]).halted).toEqual(session.halted);
    // The first probe (at 0.9 s) saw a healthy service: the halt came from the one after.
    expect(haltedAfterMs).toBeGreaterThanOrEqual(300);
    console.log(`probe halt: ${Math.round(haltedAfterMs)} ms after the faults began (probe every 500 ms)`);
  });

  test('a JSON field and a latency limit fail a probe; failures must come in a row', async () => {
    let answer = { status: 'ok' };
    let delayMs = 0;
    let checks = 0;
    const health = await startServer((_req, res) => {
      checks++;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)), delayMs);
    });
    closers.push(() => health.close());
    const session = await ChaosSession.start([{ mock: {}, faults: 'status:503', seed: 1 }]);
    closers.push(() => session.stop());
    session.watchHealth(buildHaltPlan({ probes: [health.url], every: '100ms', after: 3, latency: '150ms', json: 'status==ok' })!, () => {});
    answer = { status: 'degraded' };
    await waitFor(() => checks >= 2, 2000);
    answer = { status: 'ok' };
    await waitFor(() => checks >= 5, 2000);
    expect(session.halted).toBeUndefined();
    delayMs = 300;
    expect(await waitFor(() => session.halted !== undefined, 5000)).toBe(true);
    expect(session.halted!.cause).toMatch(/no answer within 150ms \(3 in a row\)$/);
  });

  describe('--halt-when against a fake Prometheus', () => {
    let prometheus: HttpServer;
    let url: string;
    let reply: () => unknown;
    const queries: string[] = [];
    beforeEach(async () => {
      queries.length = 0;
      prometheus = createHttpServer((req, res) => {
        const at = new URL(req.url!, 'http://x');
        if (at.pathname !== '/prom/api/v1/query') return void res.writeHead(404).end();
        queries.push(at.searchParams.get('query')!);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply()));
      });
      await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}/prom`;
      closers.push(() => new Promise((resolve) => prometheus.close(resolve)));
    });
    const vector = (...values: string[]) => ({
      status: 'success',
      data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [1700000000.1, v] })) },
    });

    test('an empty result is reported and does not halt; a value above the limit, twice in a row, halts', async () => {
      reply = () => vector();
      const session = await ChaosSession.start([{ mock: {}, faults: 'status:503', seed: 1 }]);
      closers.push(() => session.stop());
      const lines: string[] = [];
      const query = 'sum(rate(http_errors_total{job="api"}[1m])) / sum(rate(http_requests_total[1m]))';
      session.watchHealth(buildHaltPlan({ when: [`prometheus:${url} ${query} > 0.05`], every: '100ms', after: 2 })!, (l) => lines.push(l));
      await waitFor(() => queries.length >= 4, 3000);
      expect(session.halted).toBeUndefined();
      expect(queries[0]).toBe(query);
      expect(lines).toEqual([`halt check prometheus:${url} ${query} > 0.05: cannot tell (empty result)`]);
      reply = () => vector('0.01', '0.07');
      expect(await waitFor(() => session.halted !== undefined, 3000)).toBe(true);
      expect(session.halted!.cause).toBe(`prometheus:${url} ${query} > 0.05: value 0.07 > 0.05 (2 in a row)`);
      expect(lines[1]).toMatch(/answers again$/);
    });

    test('with --halt-on-unknown, a query error counts as true', async () => {
      reply = () => ({ status: 'error', errorType: 'bad_data', error: 'parse error' });
      const session = await ChaosSession.start([{ mock: {}, faults: 'status:503', seed: 1 }]);
      closers.push(() => session.stop());
      session.watchHealth(buildHaltPlan({ when: [`prometheus:${url} up == 0`], every: '100ms', after: 2, onUnknown: true })!, () => {});
      expect(await waitFor(() => session.halted !== undefined, 3000)).toBe(true);
      expect(session.halted!.cause).toMatch(/Prometheus answered no success \(2 in a row\)$/);
    });
  });

  test('live metrics (resil chaos --metrics-port) carry resil_proxy_halted and the faults withheld, per provider', async () => {
    const session = await ChaosSession.start([
      { mock: {}, faults: 'status:503', seed: 1, name: 'a' },
      { mock: {}, faults: 'status:500', seed: 1, name: 'b' },
    ]);
    closers.push(() => session.stop());
    const board = new LiveBoard();
    session.runHooks({ live: board }).onStart!();
    session.haltAll('test');
    session.proxy('b').resume();
    await statuses(`${session.proxy('a').url}/x`, 2);
    await statuses(`${session.proxy('b').url}/x`, 1);
    const text = await liveRegistry(board.view()).metrics();
    expect(text).toMatch(/^resil_proxy_halted\{provider="a"\} 1$/m);
    expect(text).toMatch(/^resil_proxy_halted\{provider="b"\} 0$/m);
    expect(text).toMatch(/^resil_faults_withheld_total\{provider="a",type="status:503"\} 2$/m);
    expect(text).toMatch(/^resil_faults_injected_total\{provider="b",type="status:500"\} 1$/m);
  });

  test('bad halt settings: every problem, worded as flags', () => {
    expect(() => buildHaltPlan({ when: ['up > 1'], every: 'soon', status: '600', json: 'nope' })).toThrow(
      [
        "--halt-when 'up > 1': expected 'prometheus:URL QUERY > NUMBER' (or >=, <, <=, ==, !=)",
        "--halt-every 'soon': expected a duration from 100ms to 24h ('2s')",
        "--halt-status '600': expected statuses such as '2xx' or '200,204'",
        "--halt-json 'nope': expected FIELD==VALUE or FIELD!=VALUE ('status==ok')",
        '--halt-status, --halt-latency and --halt-json judge a --halt-probe: give one',
      ].join('; '),
    );
    expect(buildHaltPlan({})).toBeNull();
  });
});

// ---- TCP helpers ----

async function startEcho(): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** One connection: sends `text`, returns what came back, or 'reset' when the proxy reset it. */
function echoOnce(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (d) => {
      got += d;
      if (got === text) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNRESET' ? 'reset' : e.code!));
    socket.on('close', () => resolve(got || 'closed'));
  });
}

/** Milliseconds from writing `text` on an open connection to its echo. */
function roundTrip(socket: Socket, text: string): Promise<number> {
  const start = performance.now();
  socket.write(text);
  return new Promise((resolve) => socket.once('data', () => resolve(performance.now() - start)));
}
