import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  decorrelatedJitterGenerator,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IBackoff,
  type IBackoffFactory,
  type IPolicy,
  type IRetryBackoffContext,
} from 'cockatiel';
import { type Dispatcher, Pool } from 'undici';

/**
 * The example service resil's demo and campaign drive: a small "LLM gateway" in front of two
 * completion providers. In resilient mode every provider call goes through cockatiel policies
 * (retry with jittered exponential backoff that honours Retry-After, a consecutive-failure circuit
 * breaker, a per-call timeout) and the gateway fails over from provider A to provider B. In naive
 * mode it calls provider A in a bare loop: a failed call is retried at once, up to 4 calls, Retry-After
 * ignored, a 10 s timeout, no breaker, no failover; it reports the last failure as 502. Both modes pass
 * the caller's X-Request-Id and traceparent on to every provider call, so each call can be traced
 * back to the request that caused it; the resilient mode also sends one Idempotency-Key per request.
 */
export interface GatewayOptions {
  /** Base URL of provider A; the gateway calls `POST {providerA}/v1/complete`. */
  providerA: string;
  /** Base URL of provider B, used when A fails (resilient mode only). */
  providerB: string;
  /** Immediate retries at A (4 calls at most), Retry-After ignored, 10 s timeout, no breaker or failover. Default false. */
  naive?: boolean;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Per provider call (each attempt), in ms. Default 1000. */
  callTimeoutMs?: number;
  /** Retries per provider after the first attempt (cockatiel maxAttempts). Default 2. */
  retries?: number;
  /** Initial backoff delay in ms. Default 50. */
  baseBackoffMs?: number;
  /** Consecutive failures that open a provider's breaker. Default 5. */
  breakerFailures?: number;
  /** How long an open breaker stays open before letting one test call through, in ms. Default 5000. */
  breakerCooldownMs?: number;
}

export interface Gateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

type ProviderName = 'a' | 'b';

/** Longest wait a provider's Retry-After can impose on one retry (keeps the demo short). */
const RETRY_AFTER_CAP_MS = 2_000;
/** Upper bound of the jittered exponential backoff. */
const MAX_BACKOFF_MS = 1_000;
/** The naive gateway's only timeout, per call. */
const NAIVE_TIMEOUT_MS = 10_000;
/** Calls the naive gateway makes to A for one request: the first and 3 immediate retries. */
const NAIVE_CALLS = 4;
/** Headers of the caller's request passed on to every provider call (request id and W3C trace context). */
const PROPAGATED_HEADERS = ['x-request-id', 'traceparent'] as const;
/** Largest request body the gateway accepts. */
const MAX_BODY_BYTES = 1024 * 1024;

/** A failed provider call. `retryable` failures are retried and count against the breaker. */
class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** From a Retry-After header on 429/503, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** The failures the retry and the breaker handle: retryable provider errors and per-call timeouts. */
const isProviderFailure = (error: Error): boolean =>
  (error instanceof ProviderError && error.retryable) || error instanceof TaskCancelledError;

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(raw)) return Math.round(Number(raw) * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Wraps a backoff so that a retry waits at least as long as the provider's Retry-After asked for
 * (capped), reading it from the failure carried in the retry context.
 */
class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly inner: IBackoffFactory<unknown>,
    private readonly capMs: number,
  ) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    return this.honour(this.inner.next(context), context);
  }

  private honour(backoff: IBackoff<unknown>, context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const failure = 'error' in context.result ? context.result.error : undefined;
    const retryAfterMs = failure instanceof ProviderError ? failure.retryAfterMs : undefined;
    const duration = retryAfterMs === undefined ? backoff.duration : Math.max(backoff.duration, Math.min(retryAfterMs, this.capMs));
    return { duration, next: (nextContext) => this.honour(backoff.next(nextContext), nextContext) };
  }
}

class Provider {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(
    readonly name: ProviderName,
    baseUrl: string,
  ) {
    const url = new URL(baseUrl);
    this.pool = new Pool(url.origin, { connections: 256, keepAliveTimeout: 10_000 });
    this.path = `${url.pathname.replace(/\/+$/, '')}/v1/complete`;
  }

  /** One call: resolves with the provider's result, or throws a ProviderError. `passed` are the caller's headers passed on. */
  async complete(prompt: string, passed: Record<string, string>, signal: AbortSignal): Promise<unknown> {
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: { ...passed, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ prompt }),
        signal,
      });
    } catch (error) {
      const reason = signal.aborted ? 'call aborted' : describe(error);
      throw new ProviderError(`provider ${this.name}: ${reason}`, true);
    }
    const { statusCode, headers, body } = response;
    if (statusCode >= 500 || statusCode === 429) {
      await body.dump().catch(() => undefined);
      const retryAfterMs = statusCode === 429 || statusCode === 503 ? parseRetryAfter(headers['retry-after']) : undefined;
      throw new ProviderError(`provider ${this.name}: status ${statusCode}`, true, statusCode, retryAfterMs);
    }
    if (statusCode < 200 || statusCode >= 300) {
      // Not a provider outage (a 4xx or a redirect): not retried and not held against the breaker.
      await body.dump().catch(() => undefined);
      throw new ProviderError(`provider ${this.name}: status ${statusCode}`, false, statusCode);
    }
    let text: string;
    try {
      text = await body.text();
    } catch (error) {
      throw new ProviderError(`provider ${this.name}: ${signal.aborted ? 'call aborted' : describe(error)} while reading the body`, true);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ProviderError(`provider ${this.name}: answered ${statusCode} with a body that is not JSON`, true, statusCode);
    }
    if (parsed !== null && typeof parsed === 'object' && 'result' in parsed) return (parsed as { result: unknown }).result;
    return parsed;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

function describe(error: unknown): string {
  if (error instanceof BrokenCircuitError) return 'circuit open';
  if (error instanceof TaskCancelledError) return 'timed out';
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Reads `{"prompt": string}`; resolves undefined (after answering) when the body is unacceptable. */
async function readPrompt(request: IncomingMessage, response: ServerResponse): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        send(response, 413, { error: 'request body too large', provider: null });
        request.resume();
        return undefined;
      }
      chunks.push(chunk);
    }
  } catch {
    return undefined; // the client went away
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    send(response, 400, { error: 'body must be JSON: {"prompt": "..."}', provider: null });
    return undefined;
  }
  const prompt = parsed !== null && typeof parsed === 'object' ? (parsed as { prompt?: unknown }).prompt : undefined;
  if (typeof prompt !== 'string') {
    send(response, 400, { error: 'body must be JSON: {"prompt": "..."}', provider: null });
    return undefined;
  }
  return prompt;
}

type ResilientCall = IPolicy<{ signal: AbortSignal }, never>;

function resilientCall(options: Required<Omit<GatewayOptions, 'providerA' | 'providerB' | 'naive' | 'host' | 'port'>>): ResilientCall {
  const backoff = new RetryAfterBackoff(
    new ExponentialBackoff({ generator: decorrelatedJitterGenerator, initialDelay: options.baseBackoffMs, maxDelay: MAX_BACKOFF_MS }),
    RETRY_AFTER_CAP_MS,
  );
  // Outermost to innermost: retry (not on an open circuit) -> breaker -> per-call timeout.
  const retryPolicy = retry(handleWhen(isProviderFailure), { maxAttempts: options.retries, backoff });
  const breakerPolicy = circuitBreaker(handleWhen(isProviderFailure), {
    halfOpenAfter: options.breakerCooldownMs,
    breaker: new ConsecutiveBreaker(options.breakerFailures),
  });
  const timeoutPolicy = timeout(options.callTimeoutMs, TimeoutStrategy.Aggressive);
  return wrap(retryPolicy, breakerPolicy, timeoutPolicy);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const settings = {
    callTimeoutMs: options.callTimeoutMs ?? 1000,
    retries: options.retries ?? 2,
    baseBackoffMs: options.baseBackoffMs ?? 50,
    breakerFailures: options.breakerFailures ?? 5,
    breakerCooldownMs: options.breakerCooldownMs ?? 5000,
  };
  const providerA = new Provider('a', options.providerA);
  const providerB = new Provider('b', options.providerB);
  const policies = new Map<Provider, ResilientCall>([
    [providerA, resilientCall(settings)],
    [providerB, resilientCall(settings)],
  ]);
  // Aborted by close(): stops pending retries and in-flight provider calls.
  const closing = new AbortController();
  // Each call in flight listens on it (cockatiel links its own signal to this one): no fixed bound.
  setMaxListeners(0, closing.signal);

  const callResilient = (provider: Provider, prompt: string, passed: Record<string, string>): Promise<unknown> =>
    policies.get(provider)!.execute(({ signal }) => provider.complete(prompt, passed, signal), closing.signal);

  async function completeNaively(prompt: string, passed: Record<string, string>, response: ServerResponse): Promise<void> {
    let failure: unknown;
    for (let call = 1; call <= NAIVE_CALLS && !closing.signal.aborted; call++) {
      try {
        const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(NAIVE_TIMEOUT_MS)]);
        send(response, 200, { result: await providerA.complete(prompt, passed, signal), provider: 'a' });
        return;
      } catch (error) {
        failure = error;
        if (!(error instanceof ProviderError && error.retryable)) break;
      }
    }
    send(response, 502, { error: describe(failure), provider: null });
  }

  async function complete(prompt: string, caller: Record<string, string>, response: ServerResponse): Promise<void> {
    if (options.naive) return completeNaively(prompt, caller, response);
    // One Idempotency-Key for every attempt of this request, at A and at B: a retried POST is then safe
    // to repeat. The caller's request id when it sent one, so the calls stay traceable to it.
    const passed = { ...caller, 'idempotency-key': caller['x-request-id'] ?? randomUUID() };
    let failureA: unknown;
    try {
      send(response, 200, { result: await callResilient(providerA, prompt, passed), provider: 'a' });
      return;
    } catch (error) {
      failureA = error;
    }
    try {
      send(response, 200, { result: await callResilient(providerB, prompt, passed), provider: 'b' });
    } catch (failureB) {
      send(response, 503, { error: `provider a: ${describe(failureA)}; provider b: ${describe(failureB)}`, provider: null });
    }
  }

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/health') {
      request.resume();
      if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, { error: 'method not allowed' });
      return send(response, 200, { ok: true });
    }
    if (path !== '/v1/complete') {
      request.resume();
      return send(response, 404, { error: 'not found' });
    }
    if (request.method !== 'POST') {
      request.resume();
      return send(response, 405, { error: 'method not allowed', provider: null });
    }
    const passed: Record<string, string> = {};
    for (const name of PROPAGATED_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') passed[name] = value;
    }
    void readPrompt(request, response)
      .then(async (prompt) => {
        if (prompt !== undefined) await complete(prompt, passed, response);
      })
      .catch((error: unknown) => send(response, 500, { error: describe(error), provider: null }));
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      (closed ??= (async () => {
        closing.abort();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await Promise.all([providerA.close(), providerB.close()]);
      })()),
  };
}
