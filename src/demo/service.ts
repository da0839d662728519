import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The embedded example service `resil demo` drives: a small JSON API on 127.0.0.1 whose answers take
 * 1-4 ms, like a fast service with a cache in front of its dependency.
 */
export interface ExampleService {
  url: string;
  close(): Promise<void>;
}

export async function startExampleService(): Promise<ExampleService> {
  let served = 0;
  const server: Server = createServer((request, response) => {
    if (request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (request.url !== '/v1/complete') {
      response.writeHead(404).end();
      return;
    }
    request.resume();
    const delayMs = 1 + ((served++ * 7) % 4);
    setTimeout(() => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: 'ok', provider: 'demo', n: served }));
    }, delayMs);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
