import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { Registry } from 'prom-client';
import { CouldNotRunError, UsageError } from '../errors.js';
import { faultCounters, guardMetrics } from '../metrics/prometheus.js';
import { checkFaultSettingsShape } from './config.js';
import { readRequestBody } from './forward.js';
import type { ChaosProxy } from './chaos-proxy.js';
import type { GuardState } from './decide.js';
import type { ProxyStats } from './stats.js';

export interface AdminServer {
  url: string;
  close(): Promise<void>;
}

/** Largest admin request body accepted (bytes): fault settings are small. */
const MAX_BODY = 64 * 1024;

/**
 * The proxy's admin API on loopback, so a test suite can change faults at run time (as Toxiproxy
 * users do): GET /faults, PUT /faults (same settings as the flags, JSON), POST /reset, GET /stats (with
 * the guard rails' state), GET /metrics (Prometheus text), and the kill switch: POST /halt (stop injecting, pass everything through),
 * POST /resume.
 * With a token, every call needs `Authorization: Bearer TOKEN`.
 */
export interface AdminOptions {
  port: number;
  host?: string;
  token?: string;
  /** Told when POST /halt or /resume changed the proxy's state ('halted by POST /halt'), to log it. */
  onGuard?: (proxy: ChaosProxy, event: string) => void;
}

export async function startAdminServer(proxy: ChaosProxy, options: AdminOptions): Promise<AdminServer> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((request, response) => {
    void handle(proxy, options.token, options.onGuard, request, response).catch((error: unknown) =>
      reply(response, 500, { error: String(error) }),
    );
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

/** The counts, and the guard rails' state (halted, since, cause, budget left). */
function statsOf(proxy: ChaosProxy): ProxyStats & { guard: GuardState } {
  return { ...proxy.stats(), guard: proxy.guard() };
}

async function handle(
  proxy: ChaosProxy,
  token: string | undefined,
  onGuard: AdminOptions['onGuard'],
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
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
      reply(response, 200, statsOf(proxy));
      return;
    case 'GET /stats':
      reply(response, 200, statsOf(proxy));
      return;
    case 'GET /metrics': {
      // Prometheus text: faults injected and withheld, outages, and resil_proxy_halted.
      const registry = new Registry();
      const stats = proxy.stats();
      faultCounters([registry], ['provider'])({ provider: proxy.name }, stats);
      guardMetrics([registry], ['provider'])({ provider: proxy.name }, { halted: proxy.guard().halted, withheld: stats.withheld ?? {} });
      const text = await registry.metrics();
      response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text);
      return;
    }
    case 'POST /halt':
      request.resume();
      if (proxy.halt('POST /halt')) onGuard?.(proxy, 'halted by POST /halt');
      reply(response, 200, proxy.guard());
      return;
    case 'POST /resume':
      request.resume();
      if (proxy.resume()) onGuard?.(proxy, 'resumed by POST /resume');
      reply(response, 200, proxy.guard());
      return;
    default:
      reply(response, 404, { error: 'routes: GET /faults, PUT /faults, POST /reset, GET /stats, GET /metrics, POST /halt, POST /resume' });
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
