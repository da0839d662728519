import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { runChaos } from '../src/session/chaos.js';
import { refusedPort, startServer, type TestServer } from './helpers/servers.js';

// `resil chaos` with a TCP dependency: a service that asks a line-echo server over TCP for each of
// its requests (a new connection each, as a client without a pool does), behind a resil TCP proxy.

/** A line-echo server: each line sent comes back. */
async function startLineEcho(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** The service: each request sends 'ping\n' to the dependency and answers 200 when it comes back within 100 ms, else 503. */
function startTcpService(dependencyPort: number): Promise<TestServer> {
  return startServer((req, res) => {
    req.resume();
    const socket = connect({ port: dependencyPort, host: '127.0.0.1', noDelay: true });
    let got = '';
    const answer = (status: number) => {
      clearTimeout(timer);
      socket.destroy();
      if (!res.headersSent) res.writeHead(status).end(status === 200 ? 'pong' : 'dependency failed');
    };
    const timer = setTimeout(() => answer(503), 100);
    socket.on('data', (data) => {
      got += data.toString();
      if (got === 'ping\n') answer(200);
    });
    socket.on('error', () => answer(503));
    socket.on('close', () => answer(got === 'ping\n' ? 200 : 503));
    socket.write('ping\n');
  });
}

test('a latency window on a TCP dependency fails the slow stretch, recovery is measured, connections and bytes are counted', async () => {
  const echo = await startLineEcho();
  const port = await refusedPort();
  const service = await startTcpService(port);
  try {
    const result = await runChaos({
      load: { url: service.url, duration: '3s', rate: 50, seed: 5 },
      proxy: { listen: `127.0.0.1:${port}`, upstream: `tcp://127.0.0.1:${echo.port}`, faults: 'latency:300ms', windows: ['1s..2s'] },
    });
    const dependency = result.faults!.providers.dependency!;
    // One connection per request the service answered (a request cut at the end may have opened one too).
    expect(dependency.calls).toBeGreaterThanOrEqual(result.requests.total);
    expect(dependency.calls).toBeLessThanOrEqual(result.requests.total + result.requests.cancelled + 4);
    // 'ping\n' (5 bytes) up on every connection (but those the run's end cut before the service wrote),
    // and back at least for every request answered 200.
    expect(dependency.bytes!.upstream).toBeLessThanOrEqual(5 * dependency.calls);
    expect(dependency.bytes!.upstream).toBeGreaterThanOrEqual(5 * (dependency.calls - 4));
    expect(dependency.bytes!.downstream).toBeGreaterThanOrEqual(5 * result.statusCodes['200']!);
    expect(dependency.injected['latency:300ms']).toBeGreaterThan(0);
    // A connection the window delayed fails, but one opened in its last 100 ms is let go at its end and
    // may still answer in time: at 50/s that is about 5 (tolerance 8).
    expect(result.statusCodes['503']).toBeGreaterThanOrEqual(dependency.injected['latency:300ms']! - 8);
    // At a steady 50 requests/s the window holds a third of them: the success rate is about two thirds, and the gate fails.
    expect(result.successRate).toBeGreaterThan(0.5);
    expect(result.successRate).toBeLessThan(0.85);
    expect(result.thresholds.find((t) => t.metric === 'success_rate')?.ok).toBe(false);
    expect(result.thresholds.find((t) => t.metric === 'dependency_calls')).toMatchObject({ ok: true, actual: dependency.calls });
    // Connections after the window get no latency: the service is back within a second.
    expect(result.recovery).toHaveLength(1);
    expect(result.recovery![0]!.recoveryMs).not.toBeNull();
    expect(result.recovery![0]!.recoveryMs!).toBeLessThan(1000);
    // A TCP proxy sees no calls to correlate: no behaviour section.
    expect(result.behaviour).toBeUndefined();
  } finally {
    await service.close();
    await new Promise<void>((resolve) => echo.server.close(() => resolve()));
  }
}, 20_000);
