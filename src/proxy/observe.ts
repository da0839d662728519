import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { KeySource, ObservedCall } from '../behaviour/call.js';
import { parseRetryAfter } from '../util/retry-after.js';

/**
 * What a chaos proxy hands the calls it observed to: the session's BehaviourObserver
 * (src/behaviour/observer.ts), shared by every proxy of the session so that a request's attempts at
 * several providers are seen together.
 */
export interface CallObserver {
  /** Milliseconds on the run clock. */
  now(): number;
  record(call: ObservedCall): void;
}

/** The proxy side of an observed call: told when its exchange is over. */
export interface CallWatcher {
  ended(watch: CallWatch): void;
}

/**
 * What the proxy observes of one call while it lasts. Open calls form a list through `previous` and
 * `next` (the proxy's, for the calls still open at the end of a run), not a Set: adding and deleting
 * each ServerResponse in one cost about 8 µs of CPU a call (scripts/bench/proxy.mjs), more than all
 * the rest of the observation.
 */
export class CallWatch {
  key = '';
  keySource: KeySource = 'body';
  idempotencyKey = false;
  /** The call carried one of this run's request ids (as its key, or beside a key of another kind). */
  runRequest = false;
  reused = false;
  /** The Retry-After the answer carried (ms): noted by writeHead for a 429 or a 5xx (Anthropic's 529 carries one). */
  retryAfterMs: number | undefined = undefined;
  /** The proxy cut the exchange (reset, close, a cut body, an upstream failure, `down`): the client did not leave. */
  cut = false;
  /** Already handed over (open when the run ended): the close that follows records nothing. */
  reported = false;
  /** The request body, read to key the call: forwarded, replayed and matched from here (read once). */
  requestBody: Buffer | undefined = undefined;
  previous: CallWatch | null = null;
  next: CallWatch | null = null;

  constructor(
    readonly watcher: CallWatcher,
    readonly response: ObservedResponse,
    readonly arrivedMs: number,
    /** The fault decided on; cleared when it did not apply to the answer (HttpOps.notApplicable). */
    public fault: string | undefined,
  ) {}
}

/**
 * The ServerResponse of an observing proxy (createServer's ServerResponse option): it holds the
 * call's CallWatch (one field: a response of an unobserved call costs nothing more), and notes the
 * Retry-After it sends whichever way the answer is written (forwarded, injected, mocked, replayed).
 */
export class ObservedResponse extends ServerResponse {
  /** Null when the call is not observed (correlation off, or a refused request target). */
  watch: CallWatch | null = null;

  override writeHead(statusCode: number, second?: unknown, third?: unknown): this {
    if ((statusCode === 429 || statusCode >= 500) && this.watch !== null) {
      this.watch.retryAfterMs = retryAfterIn(typeof second === 'string' ? third : second) ?? this.headerRetryAfter();
    }
    // biome-ignore lint/suspicious/noExplicitAny: passes writeHead's overloads through as they came.
    return super.writeHead(statusCode, second as any, third as any);
  }

  private headerRetryAfter(): number | undefined {
    const value = this.getHeader('retry-after');
    return value === undefined ? undefined : parseRetryAfter(String(value));
  }
}

/** The proxy cut this exchange itself: when it closes, the client is not the one that left. */
export function markCut(response: ServerResponse): void {
  if (response instanceof ObservedResponse && response.watch !== null) response.watch.cut = true;
}

/** A listener shared by every observed response: the exchange is over (answered, cut, or the client left). */
export function onObservedClose(this: ObservedResponse): void {
  const watch = this.watch;
  if (watch !== null) watch.watcher.ended(watch);
}

/** A socket of an observed proxy, counting the calls it carried (keep-alive reuse). */
export interface CountedSocket extends Socket {
  callsCarried: number;
}

/** The Retry-After (ms) among headers given to writeHead: a flat [name, value, ...] list or a record. */
function retryAfterIn(headers: unknown): number | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i];
      if (typeof name === 'string' && name.length === 11 && name.toLowerCase() === 'retry-after')
        return parseRetryAfter(String(headers[i + 1]));
    }
    return undefined;
  }
  if (headers === null || typeof headers !== 'object') return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.length === 11 && name.toLowerCase() === 'retry-after') return parseRetryAfter(String(value));
  }
  return undefined;
}

/** The ObservedCall of an exchange, ended at `endedMs` (on the run clock). */
export function observedCall(watch: CallWatch, provider: string, endedMs: number, openAtEnd: boolean): ObservedCall {
  const { response, key } = watch;
  return {
    provider,
    method: response.req.method!,
    key,
    keySource: watch.keySource,
    runRequest: watch.runRequest,
    idempotencyKey: watch.idempotencyKey,
    arrivedMs: watch.arrivedMs,
    endedMs,
    // A cut answer (a truncated or dribbled body cut short, an upstream failure after the head) is no answer.
    status: response.headersSent && !watch.cut ? response.statusCode : 0,
    fault: watch.fault,
    retryAfterMs: watch.retryAfterMs,
    clientGone: !openAtEnd && !watch.cut && !response.writableFinished,
    openAtEnd,
    reused: watch.reused,
  };
}
