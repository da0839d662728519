import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CouldNotRunError, ResilError, UsageError } from '../../errors.js';
import { RESIL_VERSION } from '../../har/har.js';
import { readRequestBody } from '../forward.js';
import { parseListen, reachOf } from '../listen.js';
import {
  ApiError,
  booleanField,
  checkDefinition,
  checkDefinitionList,
  objectBody,
  parseBody,
  PROXY_NOT_FOUND,
  readConfigFile,
  stringField,
  TOXIC_NOT_FOUND,
} from './definitions.js';
import { checkAnyToxic } from './http-toxics.js';
import { NamedProxy, type ProxyDefinition, type ProxyJson } from './named-proxy.js';

/** The Toxiproxy release whose API this one serves (GET /version). */
export const TOXIPROXY_API_VERSION = '2.12.0';

/** Largest request body accepted (bytes): a populate list of a few hundred proxies. */
const MAX_BODY = 1024 * 1024;

export interface ToxiproxyApiOptions {
  /** '[HOST:]PORT' (default 127.0.0.1:8474; no host means 127.0.0.1). */
  listen?: string;
  /** Every call needs `Authorization: Bearer TOKEN`. */
  token?: string;
  /** A config file (Toxiproxy's format, toxics allowed) whose proxies start with the API. */
  config?: string;
  /** Seed of every proxy's toxicity draws (each proxy draws its own when absent). */
  seed?: number;
  /** One line per event worth telling (a proxy made, one reachable from other hosts). */
  log?: (line: string) => void;
}

export interface ToxiproxyApi {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  proxies(): readonly NamedProxy[];
  close(): Promise<void>;
}

/**
 * Toxiproxy's HTTP API (2.x, as its api.go serves it) over resil's proxies: named TCP proxies with
 * toxics, and, for an http(s):// upstream, resil's HTTP faults as http_* toxics. Calls are handled one
 * at a time, as Toxiproxy's collection lock does. Throws UsageError (bad config) or CouldNotRunError.
 */
export async function startToxiproxyApi(options: ToxiproxyApiOptions = {}): Promise<ToxiproxyApi> {
  const address = parseListen(options.listen ?? '127.0.0.1:8474', '--toxiproxy-api');
  const definitions = options.config === undefined ? [] : readConfigFile(options.config);
  const collection = new ProxyCollection(options.seed, options.log ?? (() => {}));
  try {
    for (const definition of definitions) await collection.add(definition);
  } catch (error) {
    await collection.clear();
    if (error instanceof ApiError) throw new UsageError(`--config ${options.config}: ${error.message}`);
    throw error;
  }
  const server: Server = createServer((request, response) => {
    void collection
      .serial(() => handle(collection, options.token, request, response))
      .catch((error: unknown) => {
        const known =
          error instanceof ApiError ? error : error instanceof UsageError ? new ApiError(apiWording(error.message), 400) : undefined;
        const failure = known ?? new ApiError(error instanceof ResilError ? error.message : String(error), 500);
        if (!response.headersSent) reply(response, failure.status, { error: failure.message, status: failure.status });
        else response.destroy();
      });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE' ? new CouldNotRunError(`--toxiproxy-api ${address.host}:${address.port}: already in use`) : error,
        ),
      );
      server.listen(address.port, address.host, () => resolve());
    });
  } catch (error) {
    await collection.clear();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = address.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    proxies: () => collection.list(),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await collection.serial(() => collection.clear());
    },
  };
}

/** The named proxies, and a queue that runs the API's calls one after the other. */
class ProxyCollection {
  private readonly proxies = new Map<string, NamedProxy>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly seed: number | undefined,
    private readonly log: (line: string) => void,
  ) {}

  serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => {});
    return run;
  }

  list(): NamedProxy[] {
    return [...this.proxies.values()];
  }

  get(name: string): NamedProxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw PROXY_NOT_FOUND();
    return proxy;
  }

  /** POST /proxies: a new name only (409). */
  async add(definition: ProxyDefinition): Promise<NamedProxy> {
    if (this.proxies.has(definition.name)) throw new ApiError('proxy already exists', 409);
    const proxy = await NamedProxy.start(definition, this.seed);
    this.proxies.set(proxy.name, proxy);
    this.log(`proxy ${proxy.name} on ${proxy.listen} (${reachOf(parseListen(proxy.listen).host)}) → ${proxy.upstream}`);
    return proxy;
  }

  /**
   * POST /populate: each proxy made, or replaced when its listen or upstream differs (Toxiproxy's
   * AddOrReplace; an unchanged one keeps its state). Declared toxics replace the proxy's.
   */
  async addOrReplace(definition: ProxyDefinition): Promise<NamedProxy> {
    const existing = this.proxies.get(definition.name);
    if (existing && !existing.differs(definition)) {
      if (definition.toxics) existing.setToxics(definition.toxics);
      return existing;
    }
    if (existing) {
      await existing.close();
      this.proxies.delete(existing.name);
    }
    return this.add(definition);
  }

  async remove(name: string): Promise<void> {
    const proxy = this.get(name);
    await proxy.close();
    this.proxies.delete(name);
  }

  async clear(): Promise<void> {
    for (const proxy of this.proxies.values()) await proxy.close();
    this.proxies.clear();
  }
}

async function handle(
  collection: ProxyCollection,
  token: string | undefined,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (token !== undefined && !authorized(request.headers.authorization, token)) {
    throw new ApiError('missing or wrong bearer token (Authorization: Bearer TOKEN)', 401);
  }
  // As Toxiproxy: no browsers, so a web page cannot drive the API from a developer's machine.
  if ((request.headers['user-agent'] ?? '').startsWith('Mozilla/')) throw new ApiError('User agent not allowed', 403);
  const path = (request.url ?? '/').split('?')[0]!;
  const parts = path.split('/').slice(1).map(decodeSegment);
  const method = request.method ?? 'GET';
  const body = async (): Promise<unknown> => {
    const bytes = await readRequestBody(request, MAX_BODY).catch(() => {
      throw new ApiError(`bad request body: more than ${MAX_BODY} bytes`, 413);
    });
    return parseBody(bytes.toString('utf8'));
  };

  if (parts.length === 1 && parts[0] === 'version') {
    allow(method, ['GET']);
    // Toxiproxy's exact text; `resil` is an extra field for those who want to know what answers.
    return sendText(response, 200, `{"version": "${TOXIPROXY_API_VERSION}", "resil": "${RESIL_VERSION}"}\n`);
  }
  if (parts.length === 1 && parts[0] === 'reset') {
    allow(method, ['POST']);
    for (const proxy of collection.list()) {
      await proxy.setEnabled(true);
      proxy.setToxics([]);
    }
    return sendEmpty(response);
  }
  if (parts.length === 1 && parts[0] === 'populate') {
    allow(method, ['POST']);
    const definitions = checkDefinitionList(await body());
    const done: NamedProxy[] = [];
    try {
      for (const definition of definitions) done.push(await collection.addOrReplace(definition));
    } catch (error) {
      // Toxiproxy answers a failed populate with the error, and the proxies made before it.
      const failure =
        error instanceof ApiError ? error : new ApiError(apiWording((error as Error).message), error instanceof UsageError ? 400 : 500);
      return reply(response, failure.status, { error: failure.message, status: failure.status, proxies: done.map((p) => p.json()) });
    }
    return reply(response, 201, { proxies: done.map((p) => p.json()) });
  }
  if (parts[0] !== 'proxies' || parts.length > 4 || (parts.length >= 3 && parts[2] !== 'toxics')) throw new ApiError('not found', 404);

  if (parts.length === 1) {
    allow(method, ['GET', 'POST']);
    if (method === 'GET') {
      const all: Record<string, ProxyJson> = {};
      for (const proxy of collection.list()) all[proxy.name] = proxy.json();
      return reply(response, 200, all);
    }
    const proxy = await collection.add(checkDefinition(await body()));
    return reply(response, 201, proxy.json());
  }

  const proxyName = parts[1]!;
  if (parts.length === 2) {
    allow(method, ['GET', 'POST', 'PATCH', 'DELETE']);
    if (method === 'DELETE') {
      await collection.remove(proxyName);
      return sendEmpty(response);
    }
    const proxy = collection.get(proxyName);
    if (method !== 'GET') {
      // Fields not given keep their value (Toxiproxy's defaults for an update).
      const input = objectBody(await body(), 'a proxy update');
      await proxy.update({
        listen: stringField(input, 'listen') || proxy.listen,
        upstream: stringField(input, 'upstream') || proxy.upstream,
        enabled: booleanField(input, 'enabled') ?? proxy.enabled,
      });
    }
    return reply(response, 200, proxy.json());
  }

  const proxy = collection.get(proxyName);
  if (parts.length === 3) {
    allow(method, ['GET', 'POST']);
    if (method === 'GET') return reply(response, 200, proxy.json().toxics);
    const toxic = checkAnyToxic(await body(), proxy.http);
    if (proxy.toxics.some((t) => t.name === toxic.name)) throw new ApiError('toxic already exists', 409);
    proxy.setToxics([...proxy.toxics, toxic]);
    // Toxiproxy answers a new toxic with 200, not 201.
    return reply(response, 200, toxicOf(proxy, toxic.name));
  }

  const toxicName = parts[3]!;
  allow(method, ['GET', 'POST', 'PATCH', 'DELETE']);
  const current = proxy.toxics.find((t) => t.name === toxicName);
  if (!current) throw TOXIC_NOT_FOUND();
  if (method === 'DELETE') {
    proxy.setToxics(proxy.toxics.filter((t) => t !== current));
    return sendEmpty(response);
  }
  if (method !== 'GET') {
    // Toxiproxy's update: the attributes given over the toxic's, and its toxicity; name, type and stream stay.
    const input = objectBody(await body(), 'a toxic update');
    const attributes = input.attributes ?? {};
    if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes))
      throw new UsageError('attributes must be a JSON object');
    const updated = checkAnyToxic(
      { ...current, attributes: { ...current.attributes, ...attributes }, toxicity: input.toxicity ?? current.toxicity },
      proxy.http,
    );
    proxy.setToxics(proxy.toxics.map((t) => (t === current ? updated : t)));
  }
  return reply(response, 200, toxicOf(proxy, toxicName));
}

function toxicOf(proxy: NamedProxy, name: string): unknown {
  return proxy.json().toxics.find((t) => t.name === name);
}

function allow(method: string, methods: readonly string[]): void {
  if (!methods.includes(method)) throw new ApiError(`method not allowed (${methods.join(', ')})`, 405);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('not found', 404);
  }
}

function authorized(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const actual = Buffer.from(header ?? '');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  sendText(response, status, `${JSON.stringify(body)}\n`);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function sendEmpty(response: ServerResponse): void {
  response.writeHead(204).end();
}

/** A proxy's checks name the command-line flags ('--listen ...'); through the API they are JSON fields. */
function apiWording(message: string): string {
  return message.replace(/--(listen|upstream)\b/g, '$1');
}
