import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

/** A real server on 127.0.0.1, port 0, that counts the requests it saw. */
export interface TestServer {
  url: string;
  port: number;
  /** Requests whose headers the server received. */
  readonly seen: number;
  close(): Promise<void>;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function listen(server: Server | ReturnType<typeof createNetServer>, scheme: string, counter: { seen: number }): Promise<TestServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    get seen() {
      return counter.seen;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP server running `handler` for every request (after counting it). */
export async function startServer(handler: Handler = (_req, res) => res.end('ok')): Promise<TestServer> {
  const counter = { seen: 0 };
  const server = createServer((request, response) => {
    counter.seen++;
    handler(request, response);
  });
  server.keepAliveTimeout = 60_000;
  return listen(server, 'http', counter);
}

/** Answers every request with `status` and `body`. */
export function startStatusServer(status: number, body = 'x'): Promise<TestServer> {
  return startServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
}

/** HTTPS with a self-signed certificate (fixtures/), so a verifying client fails with a TLS error. */
export async function startSelfSignedHttpsServer(): Promise<TestServer> {
  const counter = { seen: 0 };
  const fixtures = new URL('../fixtures/', import.meta.url);
  const server = createHttpsServer(
    { key: readFileSync(new URL('self-signed.key', fixtures)), cert: readFileSync(new URL('self-signed.crt', fixtures)) },
    (_req, res) => {
      counter.seen++;
      res.end('secure');
    },
  );
  return listen(server as unknown as Server, 'https', counter);
}

/**
 * A raw TCP server for misbehaviour HTTP servers would not allow: `onRequest` gets the socket once a
 * request's headers have arrived and decides what (not) to send.
 */
export async function startRawServer(onRequest: (socket: Socket) => void): Promise<TestServer> {
  const counter = { seen: 0 };
  const server = createNetServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        buffered = buffered.slice(end + 4);
        counter.seen++;
        onRequest(socket);
      }
    });
    socket.on('error', () => {});
  });
  return listen(server, 'http', counter);
}

/** A port on 127.0.0.1 with nothing listening: connections are refused. */
export async function refusedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
