import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { CouldNotRunError, UsageError } from '../errors.js';
import { checkFaultSettingsShape } from './config.js';
import { readRequestBody } from './forward.js';
import type { ChaosProxy } from './chaos-proxy.js';

export interface AdminServer {
  url: string;
  close(): Promise<void>;
}

/** Largest admin request body accepted (bytes): fault settings are small. */
const MAX_BODY = 64 * 1024;

/**
 * The proxy's admin API on loopback, so a test suite can change faults at run time (as Toxiproxy
 * users do): GET /faults, PUT /faults (same settings as the flags, JSON), POST /reset, GET /stats.
 * With a token, every call needs `Authorization: Bearer TOKEN`.
 */
export async function startAdminServer(proxy: ChaosProxy, options: { port: number; host?: string; token?: string }): Promise<AdminServer> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((request, response) => {
    void handle(proxy, options.token, request, response).catch((error: unknown) => reply(response, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new CouldNotRunError(`--admin-port ${options.port}: already in use`) : error),
    );
    server.listen(options.port, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(proxy: ChaosProxy, token: string | undefined, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (token !== undefined && !authorized(request.headers.authorization, token)) {
    reply(response, 401, { error: 'missing or wrong bearer token' });
    return;
  }
  const route = `${request.method} ${request.url?.split('?')[0]}`;
  switch (route) {
    case 'GET /faults':
      reply(response, 200, proxy.faultSettings());
      return;
    case 'PUT /faults': {
      let parsed: unknown;
      try {
        parsed = JSON.parse((await readRequestBody(request, MAX_BODY)).toString('utf8'));
      } catch {
        reply(response, 400, { error: 'the body must be JSON fault settings, e.g. {"failureRate":0.3,"faults":"status:503"}' });
        return;
      }
      try {
        proxy.setFaults(checkFaultSettingsShape(parsed));
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        reply(response, 400, { error: error.message });
        return;
      }
      reply(response, 200, proxy.faultSettings());
      return;
    }
    case 'POST /reset':
      proxy.resetStats();
      reply(response, 200, proxy.stats());
      return;
    case 'GET /stats':
      reply(response, 200, proxy.stats());
      return;
    default:
      reply(response, 404, { error: 'routes: GET /faults, PUT /faults, POST /reset, GET /stats' });
  }
}

function authorized(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const actual = Buffer.from(header ?? '');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
