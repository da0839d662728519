import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { CouldNotRunError } from '../errors.js';
import { faultCounters, guardMetrics, HdrHistogramMetric, HELP, latencyBuckets, outcomeCounts, streamMetrics } from './prometheus.js';
import type { LiveSource, LiveView } from './live.js';

export interface MetricsServerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  source: LiveSource;
}

export interface MetricsServer {
  /** The scrape URL: http://HOST:PORT/metrics. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics for Prometheus while a run goes on. Nothing is done per load request: at each
 * scrape `source()` is called once and a fresh prom-client registry is filled from that one view
 * (so concurrent scrapes cannot mix views, and every figure on a page comes from the same moment).
 * Other paths answer 404; other methods on /metrics 405.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const { source } = options;
  const server = createServer((request, response) => {
    void answer(request, response, source);
  });
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(listenError(error, host, options.port));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options.port, host);
  });

  const { port } = server.address() as AddressInfo;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${port}/metrics`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (error.code === 'EADDRINUSE') return new CouldNotRunError(`metrics port ${where} is already in use; choose another --metrics-port`);
  if (error.code === 'EACCES') return new CouldNotRunError(`not allowed to listen on ${where} for metrics; choose a port above 1023`);
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
    return new CouldNotRunError(`cannot listen on ${where} for metrics: no such local address`);
  return new CouldNotRunError(`cannot listen on ${where} for metrics: ${error.message}`);
}

async function answer(request: IncomingMessage, response: ServerResponse, source: LiveSource): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  try {
    const registry = liveRegistry(source());
    const body = await registry.metrics();
    response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : body);
  } catch (error) {
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`could not collect metrics: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** A registry holding one view's figures (no default metrics). */
export function liveRegistry(view: LiveView): Registry {
  const registry = new Registry();
  const registers = [registry];
  const { scenario } = view;

  const requests = new Counter({ name: 'resil_requests_total', help: HELP.requests, labelNames: ['scenario', 'outcome'], registers });
  for (const [outcome, count] of outcomeCounts(view.ok, view.errors)) requests.inc({ scenario, outcome }, count);

  new Counter({ name: 'resil_requests_dropped_total', help: HELP.dropped, labelNames: ['scenario'], registers }).inc(
    { scenario },
    view.dropped,
  );

  if (view.latency !== null) {
    new HdrHistogramMetric('resil_request_duration_seconds', HELP.duration)
      .registerIn(registry)
      .add({ scenario }, latencyBuckets(view.latency));
  }

  if (view.streams) streamMetrics(registry, ['scenario'])({ scenario }, view.streams);

  const countFaults = faultCounters(registers, ['provider']);
  for (const [provider, counts] of Object.entries(view.faults)) countFaults({ provider }, counts);

  if (view.guards) {
    const countGuard = guardMetrics(registers, ['provider']);
    for (const [provider, guard] of Object.entries(view.guards)) countGuard({ provider }, guard);
  }

  new Gauge({ name: 'resil_in_flight', help: 'Requests in flight now.', labelNames: ['scenario'], registers }).set(
    { scenario },
    view.inFlight,
  );

  const breakers = new Gauge({
    name: 'resil_breaker_state',
    help: 'Circuit breaker state per provider: 0 closed, 1 open, 2 half-open.',
    labelNames: ['provider'],
    registers,
  });
  for (const [provider, state] of Object.entries(view.breakers)) breakers.set({ provider }, state);

  return registry;
}
