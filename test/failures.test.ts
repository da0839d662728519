import { runLoad } from '../src/session/load.js';
import { cpuWait } from './helpers/machine.js';
import {
  refusedPort,
  startRawServer,
  startSelfSignedHttpsServer,
  startServer,
  startStatusServer,
  type TestServer,
} from './helpers/servers.js';

// Every failure class, produced by a real misbehaving server over a real socket.
describe('failure classification', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  test('an unexpected status is status:NNN, and counted under its code', async () => {
    server = await startStatusServer(503);
    const result = await runLoad({ url: server.url, requests: 20, concurrency: 2 });
    expect(result.requests).toEqual({ total: 20, ok: 0, failed: 20, cancelled: 0, dropped: 0 });
    expect(result.errors).toEqual({ 'status:503': 20 });
    expect(result.statusCodes).toEqual({ '503': 20 });
    expect(server.seen).toBe(20);
  });

  test('--expect-status widens what passes', async () => {
    server = await startStatusServer(404);
    const result = await runLoad({ url: server.url, requests: 10, expectStatus: '2xx,404' });
    expect(result.requests.ok).toBe(10);
  });

  test('a TCP reset before any response is reset', async () => {
    server = await startRawServer((socket) => socket.resetAndDestroy());
    const result = await runLoad({ url: server.url, requests: 10, concurrency: 1 });
    expect(result.errors).toEqual({ reset: 10 });
    expect(server.seen).toBe(10);
  });

  test('a connection closed with no response is closed', async () => {
    server = await startRawServer((socket) => socket.end());
    const result = await runLoad({ url: server.url, requests: 10, concurrency: 1 });
    expect(result.errors).toEqual({ closed: 10 });
    expect(server.seen).toBe(10);
  });

  test('a body cut short of its Content-Length is body', async () => {
    server = await startRawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b');
      setTimeout(() => socket.destroy(), 5);
    });
    const result = await runLoad({ url: server.url, requests: 5, concurrency: 1 });
    expect(result.errors).toEqual({ body: 5 });
  });

  test('a body that fails --expect-body or --expect-json is body', async () => {
    server = await startServer((_req, res) => res.end('{"result":"partial","n":1}'));
    const substring = await runLoad({ url: server.url, requests: 5, expectBody: 'complete' });
    expect(substring.errors).toEqual({ body: 5 });
    expect(substring.statusCodes).toEqual({ '200': 5 });
    const json = await runLoad({ url: server.url, requests: 5, expectJson: ['result=complete'] });
    expect(json.errors).toEqual({ body: 5 });
    const passing = await runLoad({ url: server.url, requests: 5, expectJson: ['result=partial', 'n=1', 'n'] });
    expect(passing.requests.ok).toBe(5);
  });

  test('a body that is not JSON fails a JSON check', async () => {
    server = await startServer((_req, res) => res.end('{"result": "trunc'));
    const result = await runLoad({ url: server.url, requests: 3, expectJson: ['result'] });
    expect(result.errors).toEqual({ body: 3 });
  });

  test('no response within --timeout is timeout, fired within 20% of the limit', async () => {
    server = await startServer(() => {
      /* never answers */
    });
    const started = performance.now();
    const waited = cpuWait();
    const result = await runLoad({ url: server.url, requests: 4, concurrency: 4, timeout: '300ms' });
    const elapsed = performance.now() - started;
    expect(result.errors).toEqual({ timeout: 4 });
    // Tolerance: the timeout sweep runs every timeout/20 (15ms); allow 300ms..360ms plus 100ms of start-up,
    // plus the time other processes kept this one off the CPU.
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(460 + waited());
  });

  test('a port with no listener is refused', async () => {
    const port = await refusedPort();
    const result = await runLoad({ url: `http://127.0.0.1:${port}/`, requests: 10, concurrency: 2 });
    expect(result.errors).toEqual({ refused: 10 });
    expect(result.latencyMs).toBeNull();
  });

  test('a certificate that does not verify is tls; --insecure accepts it', async () => {
    server = await startSelfSignedHttpsServer();
    const failing = await runLoad({ url: server.url, requests: 3, concurrency: 1 });
    expect(failing.errors).toEqual({ tls: 3 });
    const insecure = await runLoad({ url: server.url, requests: 3, concurrency: 1, insecure: true });
    expect(insecure.requests.ok).toBe(3);
  });

  test('garbage instead of HTTP is other', async () => {
    server = await startRawServer((socket) => socket.end('SMTP READY\r\n\r\n'));
    const result = await runLoad({ url: server.url, requests: 3, concurrency: 1 });
    expect(result.errors).toEqual({ other: 3 });
  });
});
