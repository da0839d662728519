import { runLoad } from '../src/engine/run.js';
import { cpuWait, loopTurn } from './helpers/machine.js';
import { startServer, type TestServer } from './helpers/servers.js';

describe('clock and timers', () => {
  let server: TestServer;
  /**
   * When each request that is never answered arrived, and when the client gave up on it (ms, Date.now),
   * with the CPU wait of this process at both instants (ms, from `waited`).
   */
  const heldOpen: Array<{ arrived: number; closed: number; waitedAtArrival: number; waitedAtClose: number }> = [];
  const waited = cpuWait();
  beforeAll(async () => {
    server = await startServer((req, res) => {
      if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 3000);
        return;
      }
      if (req.url === '/hold-1') {
        const entry = { arrived: Date.now(), closed: 0, waitedAtArrival: waited(), waitedAtClose: 0 };
        heldOpen.push(entry);
        req.socket.once('close', () => {
          entry.closed = Date.now();
          entry.waitedAtClose = waited();
        });
        return;
      }
      res.end('ok');
    });
  });
  afterAll(() => server.close());

  test('a run of -d 3s ends within 1% of 3 s plus --grace, even with answers still pending', async () => {
    const started = performance.now();
    const waitedBefore = waited();
    const result = await runLoad({ url: `${server.url}/slow`, duration: '3s', grace: '300ms', concurrency: 4 });
    const elapsed = performance.now() - started;
    // Tolerance: 1% of 3 s (30 ms) plus the 300 ms grace, plus 100 ms to open and close connections,
    // plus the time other processes kept this one off the CPU.
    expect(elapsed).toBeGreaterThanOrEqual(3000);
    expect(elapsed).toBeLessThan(3000 + 30 + 300 + 100 + (waited() - waitedBefore));
    // Each connection's first answer (3 s) lands just before the end or is cancelled after the grace.
    expect(result.requests.total + result.requests.cancelled).toBe(4);
  });

  test('timeouts fire within 10% of their value under full load', async () => {
    heldOpen.length = 0;
    // 50 connections hammer the server as fast as it answers; about 1 request in 40 is never answered.
    const longestTurn = loopTurn();
    const result = await runLoad({ url: `${server.url}/hold-{{randomInt 1 40}}`, duration: '3s', concurrency: 50, timeout: '400ms', grace: '1s', seed: 9 });
    const turnMs = longestTurn();
    const held = heldOpen.filter((entry) => entry.closed > 0);
    expect(result.errors.timeout).toBeGreaterThan(20);
    expect(result.requests.ok).toBeGreaterThan(1000);
    for (const entry of held) {
      // Tolerance: 10% of 400 ms, measured on the server from arrival to the client's abort. The server
      // shares the busy event loop, so it sees a request up to one turn of the loop after it was sent:
      // 20 ms allowed below, or the longest turn measured if the machine made it longer. Above: plus
      // the time other processes kept this one off the CPU while the request was held.
      expect(entry.closed - entry.arrived).toBeGreaterThanOrEqual(400 - Math.max(20, turnMs));
      expect(entry.closed - entry.arrived).toBeLessThanOrEqual(440 + (entry.waitedAtClose - entry.waitedAtArrival));
    }
  });
});
