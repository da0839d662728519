import { setMaxListeners } from 'node:events';
import { Agent as HttpAgent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import got from 'got';
import pRetry, { AbortError } from 'p-retry';
import { Agent, RetryAgent, request, type Dispatcher } from 'undici';
import { startServer } from './servers.js';

// Small services whose dependency calls go through real, widely used retrying HTTP clients (and two
// hand-written ones that misbehave on purpose), for the dependency-side verdicts of issue #12. Each
// service answers every request with ONE logical dependency call (`GET {dependency}/dep`, retries
// included), passing on the request's X-Request-Id and traceparent to every attempt: 200 when the
// call ended in a 2xx, 502 when it did not. Loopback only; every loop is bounded in attempts and time.

/** The headers of an incoming request that a service passes on to each attempt of its dependency call. */
const PROPAGATED = ['x-request-id', 'traceparent'] as const;

/** Longest a logical dependency call may take, all attempts and waits included, before the service gives up (ms). */
const CALL_DEADLINE_MS = 15_000;

/** Longest Retry-After (ms) a hand-written client will wait; the proxy sends whole seconds, 1 s by default. */
const RETRY_AFTER_CAP_MS = 5_000;

export interface RetryingClient {
  /** One logical dependency call with its retries: true when it ended in a 2xx. Never rejects. */
  call(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}

export interface ClientService {
  url: string;
  close(): Promise<void>;
}

/** A service on 127.0.0.1 (port 0) that answers each request with one dependency call through `client`. */
export async function startClientService(dependencyUrl: string, client: RetryingClient): Promise<ClientService> {
  // Aborted by close(): stops waits between attempts and attempts in flight.
  const closing = new AbortController();
  setMaxListeners(0, closing.signal);
  const server = await startServer((req, res) => {
    req.resume();
    const headers: Record<string, string> = {};
    for (const name of PROPAGATED) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(CALL_DEADLINE_MS)]);
    void client.call(`${dependencyUrl}/dep`, headers, signal).then((ok) => {
      if (!res.destroyed) res.writeHead(ok ? 200 : 502).end(ok ? 'ok' : 'dependency failed');
    });
  });
  return {
    url: server.url,
    close: async () => {
      closing.abort();
      await server.close();
      await client.close();
    },
  };
}

/** One undici request on `dispatcher`: its status (the body read and dropped), or undefined when no answer came. */
async function statusOf(dispatcher: Dispatcher, url: string, headers: Record<string, string>, signal: AbortSignal) {
  try {
    const { statusCode, body } = await request(url, { dispatcher, headers, signal });
    await body.dump();
    return statusCode;
  } catch {
    return undefined; // reset, closed, refused, aborted
  }
}

const retryable = (status: number | undefined) => status === undefined || status >= 500 || status === 429 || status === 408;

/**
 * got 14 with its own retry: 3 retries of GET and POST on 408, 429 and 5xx (and connection errors),
 * got's default delay (1 s × 2^(retry-1) plus up to 100 ms of random noise) or the Retry-After it was
 * sent, when that is within the 5 s request timeout (each attempt's own).
 */
export function gotClient(): RetryingClient {
  const agent = new HttpAgent({ keepAlive: true });
  return {
    async call(url, headers, signal) {
      try {
        await got(url, {
          headers,
          signal,
          agent: { http: agent },
          timeout: { request: 5_000 },
          retry: { limit: 3, methods: ['GET', 'POST'], statusCodes: [408, 429, 500, 502, 503, 504] },
        });
        return true;
      } catch {
        return false;
      }
    },
    close: async () => agent.destroy(),
  };
}

/**
 * p-retry 6 around undici's request: 3 retries, delays 100, 200, 400 ms (factor 2, no randomisation),
 * Retry-After ignored (p-retry never sees the answer's headers); a 4xx other than 408/429 stops it (AbortError).
 */
export function pRetryClient(): RetryingClient {
  const dispatcher = new Agent();
  return {
    call: (url, headers, signal) =>
      pRetry(
        async () => {
          const status = await statusOf(dispatcher, url, headers, signal);
          if (status !== undefined && status < 300) return true;
          const failure = new Error(status === undefined ? 'no answer' : `status ${status}`);
          throw retryable(status) ? failure : new AbortError(failure);
        },
        { retries: 3, factor: 2, minTimeout: 100, randomize: false, signal },
      ).catch(() => false),
    close: () => dispatcher.destroy(),
  };
}

/**
 * undici's RetryAgent with its defaults but for 3 retries (not 5): idempotent methods, 429/5xx and
 * connection errors, Retry-After honoured (up to 30 s), else 500 ms × 2^(retry-1) without jitter.
 */
export function retryAgentClient(): RetryingClient {
  const dispatcher = new RetryAgent(new Agent(), { maxRetries: 3 });
  return {
    call: async (url, headers, signal) => {
      const status = await statusOf(dispatcher, url, headers, signal);
      return status !== undefined && status < 300;
    },
    close: () => dispatcher.destroy(),
  };
}

/**
 * Hand-written: up to 4 attempts, each retry sent the moment the previous one failed (429, 5xx, no
 * answer), Retry-After ignored. Every caller retries in lockstep: a retry storm.
 */
export function immediateRetryClient(): RetryingClient {
  const dispatcher = new Agent();
  return {
    async call(url, headers, signal) {
      for (let attempt = 1; attempt <= 4 && !signal.aborted; attempt++) {
        const status = await statusOf(dispatcher, url, headers, signal);
        if (status !== undefined && status < 300) return true;
        if (!retryable(status)) return false;
      }
      return false;
    },
    close: () => dispatcher.destroy(),
  };
}

/**
 * Hand-written: up to 4 attempts on ANY failure, 4xx included (a 400 will fail again), waiting the
 * Retry-After it was sent (capped at 5 s) or else a fixed 100 ms. Well-mannered in every other way.
 */
export function retryEverythingClient(): RetryingClient {
  const dispatcher = new Agent();
  return {
    async call(url, headers, signal) {
      for (let attempt = 1; attempt <= 4; attempt++) {
        let status: number | undefined;
        let retryAfterMs = 100;
        try {
          const answer = await request(url, { dispatcher, headers, signal });
          await answer.body.dump();
          status = answer.statusCode;
          const retryAfter = Number(answer.headers['retry-after']);
          if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = Math.min(retryAfter * 1000, RETRY_AFTER_CAP_MS);
        } catch {
          // no answer: retried like any other failure
        }
        if (status !== undefined && status < 300) return true;
        if (attempt === 4 || !(await sleep(retryAfterMs, true, { signal }).catch(() => false))) return false;
      }
      return false;
    },
    close: () => dispatcher.destroy(),
  };
}

/** Hand-written: one attempt that the service abandons after `timeoutMs` without an answer (AbortSignal.timeout). */
export function timeoutClient(timeoutMs: number): RetryingClient {
  const dispatcher = new Agent();
  return {
    async call(url, headers, signal) {
      const status = await statusOf(dispatcher, url, headers, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]));
      return status !== undefined && status < 300;
    },
    close: () => dispatcher.destroy(),
  };
}
