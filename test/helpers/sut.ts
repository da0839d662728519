import { request } from 'undici';
import { startServer, type TestServer } from './servers.js';

/**
 * A small service under test: every request calls its dependency at `dependencyUrl` and answers 200
 * with the dependency's body, or 502 when the dependency failed. With `retries`, failed calls
 * (5xx, 429, connection errors, timeouts) are retried at once, up to that many times.
 */
export function startSut(dependencyUrl: string, retries: number, callTimeoutMs = 500): Promise<TestServer> {
  return startServer((req, res) => {
    req.resume();
    void (async () => {
      for (let attempt = 0; attempt <= retries; attempt++) {
        try {
          const answer = await request(`${dependencyUrl}/dep`, { signal: AbortSignal.timeout(callTimeoutMs) });
          const body = await answer.body.text();
          if (answer.statusCode < 500 && answer.statusCode !== 429) {
            res.writeHead(200).end(body);
            return;
          }
        } catch {
          // connection refused, reset, closed, timeout: try again if allowed
        }
      }
      res.writeHead(502).end('dependency failed');
    })();
  });
}
