import { BrokenCircuitError, TaskCancelledError } from 'cockatiel';
import { type Dispatcher, Pool } from 'undici';
import { readEvents, type SseEvent, SseTooLarge } from './sse.js';

export type ProviderName = 'a' | 'b';

/** The model the gateway asks every provider for (a mock echoes it). */
const MODEL = 'gpt-4o-mini';

/** A failed provider call. `retryable` failures are retried and count against the breaker. */
export class ProviderError extends Error {
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

/** A provider's streamed answer from its first token on. */
export interface ProviderStream {
  /** The first token ('' when the answer has none). */
  readonly first: string;
  /** The tokens after it; throws a ProviderError when the stream is cut, carries an error event, or stalls. */
  readonly rest: AsyncIterable<string>;
  /** Stops reading and closes the call (the caller went away). */
  cancel(): void;
}

/** What one event of an OpenAI chat-completions stream means: a token, the end, or neither (a role or usage chunk). */
type Chunk = { token: string } | 'done' | undefined;

/**
 * One completion provider spoken to in OpenAI's chat-completions format: `POST {base}/v1/chat/completions`
 * with `{"model","messages":[{"role":"user","content":prompt}],"stream"}`; the answer is
 * `choices[0].message.content`, or, streamed, the `choices[0].delta.content` of each chunk up to `data: [DONE]`.
 */
export class Provider {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(
    readonly name: ProviderName,
    baseUrl: string,
  ) {
    const url = new URL(baseUrl);
    this.pool = new Pool(url.origin, { connections: 256, keepAliveTimeout: 10_000 });
    this.path = `${url.pathname.replace(/\/+$/, '')}/v1/chat/completions`;
  }

  /** One call: resolves with the answer's text, or throws a ProviderError. `passed` are the caller's headers passed on. */
  async complete(prompt: string, passed: Record<string, string>, signal: AbortSignal): Promise<string> {
    const { statusCode, body } = await this.call(prompt, false, passed, signal);
    let text: string;
    try {
      text = await body.text();
    } catch (error) {
      throw this.failure(`${signal.aborted ? 'call aborted' : describe(error)} while reading the body`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.failure(`answered ${statusCode} with a body that is not JSON`, statusCode);
    }
    const content = (parsed as { choices?: Array<{ message?: { content?: unknown } }> } | null)?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw this.failure(`answered ${statusCode} without choices[0].message.content`, statusCode);
    return content;
  }

  /**
   * One streamed call, resolved once its first token has arrived. `signal` (the attempt's timeout,
   * the gateway closing) governs the call only until then; after it, a gap of more than `idleTimeoutMs`
   * between two events ends the stream with a ProviderError.
   */
  async stream(prompt: string, passed: Record<string, string>, signal: AbortSignal, idleTimeoutMs: number): Promise<ProviderStream> {
    const call = new AbortController();
    const abortCall = () => call.abort();
    signal.addEventListener('abort', abortCall, { once: true });
    if (signal.aborted) call.abort();
    let stalled = false;
    let events: AsyncIterator<SseEvent, void> | undefined;
    /** The next event; with `idleMs`, the call is aborted when none comes within it. */
    const next = async (idleMs?: number): Promise<SseEvent | undefined> => {
      const timer =
        idleMs === undefined
          ? undefined
          : setTimeout(() => {
              stalled = true;
              call.abort();
            }, idleMs);
      try {
        const result = await events!.next();
        return result.done ? undefined : result.value;
      } catch (error) {
        const reason = stalled
          ? `stalled: no event for ${idleMs} ms`
          : call.signal.aborted
            ? 'call aborted'
            : error instanceof SseTooLarge
              ? error.message
              : `stream cut (${describe(error)})`;
        throw this.failure(reason);
      } finally {
        clearTimeout(timer);
      }
    };

    let first: string | undefined;
    let doneAtOnce = false;
    try {
      const { headers, body } = await this.call(prompt, true, passed, call.signal);
      const type = String(headers['content-type'] ?? '');
      if (!type.startsWith('text/event-stream')) {
        await body.dump().catch(() => undefined);
        throw this.failure(`answered a stream request with ${type || 'no content-type'}, not text/event-stream`);
      }
      events = readEvents(body)[Symbol.asyncIterator]();
      while (first === undefined) {
        const event = await next();
        if (event === undefined) throw this.failure('stream ended before its first token');
        const chunk = this.interpret(event);
        if (chunk === 'done') {
          first = '';
          doneAtOnce = true;
        } else if (chunk !== undefined) first = chunk.token;
      }
    } catch (error) {
      call.abort(); // what is left of a failed call's body is not read
      throw error;
    } finally {
      signal.removeEventListener('abort', abortCall);
    }
    // The attempt timed out as the first token came: the policy has moved on, so this stream is nobody's.
    if (signal.aborted) {
      call.abort();
      throw this.failure('call aborted');
    }

    /**
     * After [DONE] the body should end at once. The caller's answer does not wait for it: the rest is read
     * in the background, so the connection can be reused, for idleTimeoutMs at most, then the call is closed.
     */
    const drain = async () => {
      const timer = setTimeout(abortCall, idleTimeoutMs).unref();
      try {
        while (!(await events!.next()).done);
      } catch {
        // aborted or cut: the connection is closed, nothing is lost
      } finally {
        clearTimeout(timer);
      }
    };
    let finished = doneAtOnce;
    const rest = async function* (this: Provider): AsyncGenerator<string, void, undefined> {
      try {
        while (!finished) {
          const event = await next(idleTimeoutMs);
          if (event === undefined) throw this.failure('stream ended before [DONE]');
          const chunk = this.interpret(event);
          if (chunk === 'done') finished = true;
          else if (chunk !== undefined) yield chunk.token;
        }
      } finally {
        if (finished) void drain();
        else call.abort();
      }
    }.call(this);
    return { first, rest, cancel: abortCall };
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }

  /** Sends the request; throws a ProviderError for a failed connection or a status other than 2xx. */
  private async call(
    prompt: string,
    stream: boolean,
    passed: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: { ...passed, 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: prompt }], stream }),
        signal,
      });
    } catch (error) {
      throw this.failure(signal.aborted ? 'call aborted' : describe(error));
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
    return response;
  }

  /** One stream event; an error event (`event: error`, or a JSON with a top-level `error`) throws. */
  private interpret(event: SseEvent): Chunk {
    if (event.data === '[DONE]') return 'done';
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      throw this.failure('sent a stream event that is not JSON');
    }
    const object = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
    if (event.event === 'error' || 'error' in object) {
      const message = (object.error as { message?: unknown } | undefined)?.message;
      throw this.failure(`error event${typeof message === 'string' ? `: ${message}` : ''}`);
    }
    const content = (object as { choices?: Array<{ delta?: { content?: unknown } }> }).choices?.[0]?.delta?.content;
    return typeof content === 'string' && content !== '' ? { token: content } : undefined;
  }

  /** A retryable failure of this provider. */
  private failure(reason: string, status?: number): ProviderError {
    return new ProviderError(`provider ${this.name}: ${reason}`, true, status);
  }
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(raw)) return Math.round(Number(raw) * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export function describe(error: unknown): string {
  if (error instanceof BrokenCircuitError) return 'circuit open';
  if (error instanceof TaskCancelledError) return 'timed out';
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
