import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  decorrelatedJitterGenerator,
  handleWhen,
  retry,
  timeout,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
// Not in cockatiel's index (see startGateway): a deep import, which an exports map in a later cockatiel
// would refuse, and this module is reached from `import 'resil'` (src/index.ts). So package.json pins
// cockatiel exactly (3.2.1: 4.x needs Node 22); a bump must check this path still resolves.
import { neverAbortedSignal } from 'cockatiel/dist/common/abort.js';
import { Provider, ProviderError, type ProviderName, describe } from './provider.js';
import { relayStream } from './relay.js';

/**
 * The example service resil's demo and campaign drive: a small "LLM gateway" in front of two
 * completion providers spoken to in OpenAI's chat-completions format (src/demo/provider.ts). Its
 * callers send `POST /v1/complete` `{"prompt"}` and get `{"result","provider"}`, or, with
 * `"stream": true`, server-sent events (src/demo/relay.ts). In resilient mode every provider call goes
 * through cockatiel policies (retry with jittered exponential backoff that honours Retry-After, a
 * consecutive-failure circuit breaker, a per-call timeout) and the gateway fails over from provider A
 * to provider B. A streamed call is one of those calls until its first token: a failure, or no token
 * within the call timeout, is retried or failed over; after the first token it cannot be, and the
 * caller's stream ends with an error event. A caller going away before its answer is finished aborts the
 * provider call in flight (except a breaker's half-open test call, see `resilient`), and no retry or failover
 * follows (in both modes). In naive mode it calls provider A in a bare loop: a failed
 * call is retried at once, up to 4 calls, Retry-After ignored, a 10 s timeout, no breaker, no
 * failover; it reports the last failure as 502. Both modes pass the caller's X-Request-Id and
 * traceparent on to every provider call, so each call can be traced back to the request that caused
 * it; the resilient mode also sends one Idempotency-Key per request.
 */
export interface GatewayOptions {
  /** Base URL of provider A; the gateway calls `POST {providerA}/v1/chat/completions`. */
  providerA: string;
  /** Base URL of provider B, used when A fails (resilient mode only). */
  providerB: string;
  /** Immediate retries at A (4 calls at most), Retry-After ignored, 10 s timeout, no breaker or failover. Default false. */
  naive?: boolean;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Per provider call (each attempt; for a stream, up to its first token), in ms. Default 1000. */
  callTimeoutMs?: number;
  /** Longest gap between two events of a provider's stream after its first token, in ms. Default 1000. */
  idleTimeoutMs?: number;
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

/** Longest wait a provider's Retry-After can impose on one retry (keeps the demo short). */
const RETRY_AFTER_CAP_MS = 2_000;
/** Upper bound of the jittered exponential backoff. */
const MAX_BACKOFF_MS = 1_000;
/** The naive gateway's only timeout, per call and between two events of a stream. */
const NAIVE_TIMEOUT_MS = 10_000;
/** Calls the naive gateway makes to A for one request: the first and 3 immediate retries. */
const NAIVE_CALLS = 4;
/** Headers of the caller's request passed on to every provider call (request id and W3C trace context). */
const PROPAGATED_HEADERS = ['x-request-id', 'traceparent'] as const;
/** Largest request body the gateway accepts. */
const MAX_BODY_BYTES = 1024 * 1024;
const BODY_SHAPE = 'body must be JSON: {"prompt": "...", "stream": true|false (optional)}';

/** The failures the retry and the breaker handle: retryable provider errors and per-call timeouts. */
const isProviderFailure = (error: Error): boolean =>
  (error instanceof ProviderError && error.retryable) || error instanceof TaskCancelledError;

/**
 * The caller went away before its answer was finished: nothing more is tried for it. Not a provider's
 * failure, so neither retried nor held against a breaker.
 */
class CallerGone extends Error {
  constructor() {
    super('the caller went away');
    this.name = 'CallerGone';
  }
}

/** One provider call for a caller still waiting: CallerGone instead when it left before or during the call. */
async function forCaller<T>(left: AbortSignal, run: () => Promise<T>): Promise<T> {
  if (left.aborted) throw new CallerGone();
  try {
    return await run();
  } catch (error) {
    throw left.aborted ? new CallerGone() : error;
  }
}

/** No provider could answer: the status and error the caller gets. */
class GatewayFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayFailure';
  }
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

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** What a caller asks for. */
interface CompletionRequest {
  prompt: string;
  stream: boolean;
}

/** Reads `{"prompt": string, "stream"?: boolean}`; resolves undefined (after answering) when the body is unacceptable. */
async function readRequest(request: IncomingMessage, response: ServerResponse): Promise<CompletionRequest | undefined> {
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
    send(response, 400, { error: BODY_SHAPE, provider: null });
    return undefined;
  }
  const { prompt, stream } = parsed !== null && typeof parsed === 'object' ? (parsed as { prompt?: unknown; stream?: unknown }) : {};
  if (typeof prompt !== 'string' || (stream !== undefined && typeof stream !== 'boolean')) {
    send(response, 400, { error: BODY_SHAPE, provider: null });
    return undefined;
  }
  return { prompt, stream: stream === true };
}

/** One provider's policies, outermost to innermost: retry (not on an open circuit) -> breaker -> per-call timeout. */
interface ResilientCall {
  retry: RetryPolicy;
  breaker: CircuitBreakerPolicy;
  perCall: TimeoutPolicy;
}
type Settings = Required<Omit<GatewayOptions, 'providerA' | 'providerB' | 'naive' | 'host' | 'port'>>;

function resilientCall(options: Settings): ResilientCall {
  const backoff = new RetryAfterBackoff(
    new ExponentialBackoff({ generator: decorrelatedJitterGenerator, initialDelay: options.baseBackoffMs, maxDelay: MAX_BACKOFF_MS }),
    RETRY_AFTER_CAP_MS,
  );
  return {
    retry: retry(handleWhen(isProviderFailure), { maxAttempts: options.retries, backoff }),
    breaker: circuitBreaker(handleWhen(isProviderFailure), {
      halfOpenAfter: options.breakerCooldownMs,
      breaker: new ConsecutiveBreaker(options.breakerFailures),
    }),
    perCall: timeout(options.callTimeoutMs, TimeoutStrategy.Aggressive),
  };
}

/** One call to a provider (a completion, or a stream up to its first token), bounded by `signal`. */
type Call<T> = (provider: Provider, signal: AbortSignal) => Promise<T>;
/**
 * The first answer a mode got, and from which provider; rejects with a GatewayFailure when there is none,
 * with CallerGone once `left` (the caller went away) is aborted: the call in flight is aborted with it.
 */
type Answer = <T>(call: Call<T>, left: AbortSignal) => Promise<{ value: T; provider: ProviderName }>;

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const settings: Settings = {
    callTimeoutMs: options.callTimeoutMs ?? 1000,
    idleTimeoutMs: options.idleTimeoutMs ?? 1000,
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
  // cockatiel 3 drops that signal for the calls that waited on a half-open breaker's test call (fixed in
  // cockatiel 4, which needs Node 22: connor4312/cockatiel#112); their timeouts all listen on its one
  // shared never-aborted signal instead, more than 10 at once after a breaker closes: no bound there either.
  setMaxListeners(0, neverAbortedSignal);

  /** A through its policies, then B through its own. */
  const resilient: Answer = async (call, left) => {
    // The policies see only the gateway's closing: were the caller's leaving their signal, the per-call
    // timeout would turn it into a TaskCancelledError, which the breaker counts as the provider's failure.
    // The caller's leaving aborts the call itself instead, as a CallerGone the policies do not handle. The
    // breaker (cockatiel 3) takes an unhandled error as neither success nor failure when closed, but as a
    // success when half-open: it closes. So a gone caller is stopped before the breaker (a retry after it
    // left never spends the half-open test call), and the test call itself is not aborted by its caller
    // leaving: it runs to its answer or its per-call timeout, the breaker counts that, and the answer is
    // dropped (send and relayStream do nothing for a closed response but cancel a stream).
    const attempt = (provider: Provider) => {
      const { retry, breaker, perCall } = policies.get(provider)!;
      return retry.execute(({ signal }) => {
        if (left.aborted) throw new CallerGone();
        return breaker.execute(({ signal }) => {
          // Open (the state until the test call starts) or half-open: this is the test call.
          const test = breaker.state !== CircuitState.Closed;
          return perCall.execute(
            ({ signal }) => (test ? call(provider, signal) : forCaller(left, () => call(provider, AbortSignal.any([signal, left])))),
            signal,
          );
        }, signal);
      }, closing.signal);
    };
    let failureA: unknown;
    try {
      return { value: await attempt(providerA), provider: 'a' };
    } catch (error) {
      if (error instanceof CallerGone) throw error;
      failureA = error;
    }
    try {
      return { value: await attempt(providerB), provider: 'b' };
    } catch (failureB) {
      if (failureB instanceof CallerGone) throw failureB;
      throw new GatewayFailure(503, `provider a: ${describe(failureA)}; provider b: ${describe(failureB)}`);
    }
  };

  /** A alone, up to 4 calls sent at once. */
  const naive: Answer = async (call, left) => {
    let failure: unknown;
    for (let attempt = 1; attempt <= NAIVE_CALLS && !closing.signal.aborted; attempt++) {
      try {
        const signal = AbortSignal.any([closing.signal, left, AbortSignal.timeout(NAIVE_TIMEOUT_MS)]);
        return { value: await forCaller(left, () => call(providerA, signal)), provider: 'a' };
      } catch (error) {
        if (error instanceof CallerGone) throw error;
        failure = error;
        if (!(error instanceof ProviderError && error.retryable)) break;
      }
    }
    throw new GatewayFailure(502, describe(failure));
  };

  /** Answers one request; `left` is aborted when the caller goes away before the answer is finished. */
  async function complete(
    { prompt, stream }: CompletionRequest,
    caller: Record<string, string>,
    response: ServerResponse,
    left: AbortSignal,
  ): Promise<void> {
    // One Idempotency-Key for every attempt of this request, at A and at B: a retried POST is then safe
    // to repeat. The caller's request id when it sent one, so the calls stay traceable to it.
    const passed = options.naive ? caller : { ...caller, 'idempotency-key': caller['x-request-id'] ?? randomUUID() };
    const answer = options.naive ? naive : resilient;
    const idleTimeoutMs = options.naive ? NAIVE_TIMEOUT_MS : settings.idleTimeoutMs;
    try {
      if (stream) {
        const { value, provider } = await answer((p, signal) => p.stream(prompt, passed, signal, idleTimeoutMs), left);
        await relayStream(response, value, provider);
      } else {
        const { value, provider } = await answer((p, signal) => p.complete(prompt, passed, signal), left);
        send(response, 200, { result: value, provider });
      }
    } catch (error) {
      if (error instanceof CallerGone) return; // no one to answer
      if (!(error instanceof GatewayFailure)) throw error;
      send(response, error.status, { error: error.message, provider: null });
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
    // The caller closing its connection before the answer is finished: no call or retry is started for it
    // any more, and the call in flight is aborted.
    const left = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) left.abort();
    });
    void readRequest(request, response)
      .then(async (asked) => {
        if (asked !== undefined) await complete(asked, passed, response, left.signal);
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
