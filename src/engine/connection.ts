import { Client, type Dispatcher } from 'undici';
import type { Recorder } from '../metrics/recorder.js';
import type { ErrorClass } from '../metrics/outcome.js';
import { bodyPasses } from './checks.js';
import { classifyError, RequestCancelledError, RequestTimeoutError } from './classify.js';
import type { LoadPlan } from './plan.js';
import { RequestIdHeaders } from './request-ids.js';
import { parseRetryAfter } from '../util/retry-after.js';
import {
  type AttemptOutcome,
  type AttemptSender,
  CANCELLED,
  errorOutcome,
  type Sender,
  type SenderFactory,
  type SettleListener,
} from './sender.js';
import { isEventStream, SseScanner, type StreamSink } from './stream.js';
import type { Template } from './template.js';

/**
 * Hears how each request of a Connection ends, as it ends, then when the connection is free again
 * (after an error: on the next turn of the event loop).
 */
export interface ConnectionListener {
  /**
   * A complete answer: its status and the checks' verdict (`bodyFailed`: the status passed, the body did
   * not; `streamFailed`: the status passed, and the answer was a stream that carried an error event).
   */
  answered(connection: Connection, now: number, status: number, passed: boolean, bodyFailed: boolean, streamFailed: boolean): void;
  /** No complete answer: why, or 'cancelled' (the run stopped, or the connection closed). */
  failed(connection: Connection, now: number, outcome: ErrorClass | 'cancelled'): void;
  free(connection: Connection): void;
}

/**
 * One keep-alive HTTP/1.1 connection (an undici Client with pipelining 1) to one target that sends one
 * request at a time: the one place requests are rendered, bodies capped and checks run. It is its own
 * dispatch handler: undici calls onHeaders/onData/onComplete/onError on it directly, so a request
 * costs no promise, no response object and no per-request closure. The dispatch options object is
 * built once and reused; only templated path or body are rendered per request. An answer with
 * content-type text/event-stream is also scanned for its events (stream.ts), whose measurements wait
 * for commitStream() (the listener's, once it knows the request counts); other answers pay one look at
 * the content-type header.
 */
export class Connection implements Sender {
  inFlight = false;
  private readonly client: Client;
  private readonly request: Dispatcher.DispatchOptions;
  private readonly keepBody: boolean;
  /** Send times on the performance.now() clock (ms): scheduled (open model) and actual. */
  scheduledAt = 0;
  sentAt = 0;
  private status = 0;
  /** The last answer's raw headers, read only on demand (retryAfter). */
  private rawHeaders: Buffer[] = [];
  private afterHeaders = false;
  private chunks: Buffer[] = [];
  private keptBytes = 0;
  /** The answer in flight is a server-sent-events stream, read by `scanner` (made at the first one). */
  private streaming = false;
  private scanner: SseScanner | null = null;
  private abort: ((reason: Error) => void) | null = null;
  private stopping = false;
  /** True while inside client.dispatch: an error undici reports synchronously must not re-enter the executor. */
  private dispatching = false;
  /** Chaos runs: the request's X-Request-Id and traceparent, filled in per request. */
  private readonly ids: RequestIdHeaders | undefined;

  constructor(
    private readonly plan: LoadPlan,
    private readonly target: { origin: string; path: Template },
    private readonly random: () => number,
    private readonly listener: ConnectionListener,
  ) {
    this.client = new Client(target.origin, {
      pipelining: 1,
      // undici's idle timers are a backstop; the executor's sweep enforces the total --timeout.
      headersTimeout: plan.timeoutMs,
      bodyTimeout: plan.timeoutMs,
      connect: { rejectUnauthorized: !plan.insecure, timeout: plan.timeoutMs },
    });
    this.ids = plan.requestIds ? new RequestIdHeaders(plan.headers, plan.requestIds) : undefined;
    this.request = {
      origin: target.origin,
      path: target.path.constant ? target.path.text : '/',
      method: plan.method as Dispatcher.HttpMethod,
      headers: this.ids ? this.ids.headers : plan.headers,
      body: plan.body?.constant ? Buffer.from(plan.body.text) : null,
    };
    this.keepBody = plan.checks.readsBody;
  }

  /** Sends request number `index`, scheduled at `scheduledAt` (ms, performance.now clock). */
  send(scheduledAt: number, index: number): void {
    const plan = this.plan;
    if (!this.target.path.constant) this.request.path = this.target.path.render(index, this.random);
    if (plan.body !== undefined && !plan.body.constant) this.request.body = plan.body.render(index, this.random);
    if (this.ids) this.ids.fill(index);
    this.inFlight = true;
    this.status = 0;
    this.afterHeaders = false;
    this.streaming = false;
    this.scanner?.discard();
    this.abort = null;
    this.scheduledAt = scheduledAt;
    this.sentAt = performance.now();
    this.dispatching = true;
    this.client.dispatch(this.request, this);
    this.dispatching = false;
  }

  /** Aborts the request if it has run longer than --timeout; called by the executor's sweep. */
  expireIfOverdue(now: number): void {
    if (this.inFlight && this.abort !== null && now - this.sentAt >= this.plan.timeoutMs) {
      this.abort(new RequestTimeoutError(`no complete response within ${this.plan.timeoutMs}ms`));
    }
  }

  /** One request is one attempt here: nothing to stop. */
  stopSending(): void {}

  /** Abandons the in-flight request (the run is stopping); it is counted as cancelled. */
  cancel(): void {
    if (this.inFlight && this.abort !== null) this.abort(new RequestCancelledError('run stopped'));
  }

  async close(): Promise<void> {
    this.stopping = true;
    await this.client.destroy();
  }

  // ---- undici dispatch handler ----

  onConnect(abort: (reason: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    this.afterHeaders = true;
    if (isEventStream(rawHeaders)) {
      this.streaming = true;
      // ttft counts from the request's start, as its latency does (the scheduled time in the open model).
      (this.scanner ??= new SseScanner()).start(this.scheduledAt);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.streaming) this.scanner!.push(chunk, performance.now());
    if (this.keepBody && this.keptBytes < this.plan.maxBodyBytes) {
      const room = this.plan.maxBodyBytes - this.keptBytes;
      const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(kept);
      this.keptBytes += kept.length;
    }
    return true;
  }

  onComplete(): void {
    const now = performance.now();
    const status = this.status;
    let passed = this.plan.checks.statusAllowed[status] === 1;
    let bodyFailed = false;
    const streamFailed = this.streaming && passed && this.scanner!.errorSeen;
    if (this.streaming) this.scanner!.end(now, false);
    this.streaming = false;
    if (streamFailed) passed = false;
    else if (passed && this.keepBody) {
      passed = bodyPasses(this.plan.checks, this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks));
      bodyFailed = !passed;
    }
    if (this.keepBody) {
      this.chunks = [];
      this.keptBytes = 0;
    }
    this.listener.answered(this, now, status, passed, bodyFailed, streamFailed);
    this.settle();
  }

  onError(error: Error): void {
    if (this.keepBody) {
      this.chunks = [];
      this.keptBytes = 0;
    }
    const cancelled = error instanceof RequestCancelledError || this.stopping;
    const now = performance.now();
    const outcome = cancelled ? 'cancelled' : this.failure(error);
    if (this.streaming) this.scanner!.end(now, true);
    this.streaming = false;
    this.listener.failed(this, now, outcome);
    // undici may be failing several queued requests in one loop (a refused connect): sending again from
    // inside that loop would corrupt its queue, so the connection is freed on the next turn.
    setImmediate(this.settleAfterError);
  }

  private readonly settleAfterError = (): void => this.settle();

  /** The error's class; a stream cut after a data event, or after an error event, is `stream`. */
  private failure(error: Error): ErrorClass {
    const outcome = classifyError(error, this.afterHeaders);
    const streamed = this.streaming && (this.scanner!.dataEvents > 0 || this.scanner!.errorSeen);
    return outcome === 'body' && streamed ? 'stream' : outcome;
  }

  /** Tells `sink` the measurements of the last request's stream, if it was one (at most once per request). */
  commitStream(sink: StreamSink): void {
    this.scanner?.commit(sink);
  }

  /** The last answer's Retry-After header, if it had one. */
  retryAfter(): string | undefined {
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.length === 11 && raw[i]!.toString('latin1').toLowerCase() === 'retry-after') return raw[i + 1]!.toString('latin1');
    }
    return undefined;
  }

  // Legacy-handler hooks undici may call; nothing to do for them.
  onResponseStarted(): void {}
  onUpgrade(): void {}
  onBodySent(): void {}

  private settle(): void {
    this.inFlight = false;
    this.abort = null;
    if (this.dispatching) setImmediate(this.free);
    else this.listener.free(this);
  }

  private readonly free = (): void => this.listener.free(this);
}

/** The plain path: each request's end goes to the executor's recorder, the free connection back to the executor. */
class Recording implements ConnectionListener {
  constructor(
    private readonly recorder: Recorder,
    private readonly onSettled: SettleListener,
  ) {}

  answered(connection: Connection, now: number, status: number, passed: boolean, bodyFailed: boolean, streamFailed: boolean): void {
    connection.commitStream(this.recorder);
    this.recorder.recordResponse(now, now - connection.scheduledAt, now - connection.sentAt, status, passed, bodyFailed, streamFailed);
  }

  /** A cancelled request's stream is not measured (its ttft and gaps would count a request that does not). */
  failed(connection: Connection, now: number, outcome: ErrorClass | 'cancelled'): void {
    if (outcome === 'cancelled') this.recorder.cancelled++;
    else {
      connection.commitStream(this.recorder);
      this.recorder.recordError(now, outcome);
    }
  }

  free(connection: Connection): void {
    this.onSettled(connection);
  }
}

/** Plain connections to the plan's target, each recording its own requests. */
export const plainSenders: SenderFactory = {
  create: ({ plan, recorder, random, onSettled }) => new Connection(plan, plan.targets[0]!, random, new Recording(recorder, onSettled)),
};

/**
 * One request of policy mode, shared by the attempt senders of its providers: when it started, and the
 * connection and outcome of its latest attempt sent (the final one's stream is the request's stream).
 */
export interface PolicyRequest {
  startedAt: number;
  lastConnection: Connection | null;
  lastOutcome: AttemptOutcome | null;
}

/**
 * A Connection as an AttemptSender, for the policies (policies.ts): each attempt is one request
 * on the connection, which renders, sends, times out and checks it as on the plain path; its end
 * resolves the attempt once the connection is free again. `counters.attempts` counts the attempts sent.
 * `request.startedAt` is when the request the attempt belongs to started (its scheduled time in the open
 * model): a streamed answer's ttft counts from there, as the request's latency does. Each attempt's end
 * is noted in `request` (its connection and outcome), so that only the final attempt's stream is measured.
 */
export class ConnectionAttempts implements AttemptSender, ConnectionListener {
  private readonly connection: Connection;
  private outcome: AttemptOutcome = CANCELLED;
  /** Resolves the attempt on the wire; null between attempts. */
  private resolve: ((outcome: AttemptOutcome) => void) | null = null;

  constructor(
    plan: LoadPlan,
    target: { origin: string; path: Template },
    random: () => number,
    private readonly counters: { attempts: number },
    private readonly request: PolicyRequest,
  ) {
    this.connection = new Connection(plan, target, random, this);
  }

  get attempting(): boolean {
    return this.resolve !== null;
  }

  attempt(index: number, signal: AbortSignal): Promise<AttemptOutcome> {
    // Cancelled while a policy waited out a backoff: no attempt.
    if (signal.aborted) return Promise.resolve(CANCELLED);
    this.counters.attempts++;
    return new Promise<AttemptOutcome>((resolve) => {
      this.resolve = resolve;
      this.connection.send(this.request.startedAt, index);
    });
  }

  expireIfOverdue(now: number): void {
    if (this.resolve !== null) this.connection.expireIfOverdue(now);
  }

  /** One attempt is one request here: nothing further to stop. */
  stopSending(): void {}

  cancel(): void {
    if (this.resolve !== null) this.connection.cancel();
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  // ---- how each attempt ends, told by the connection ----

  answered(connection: Connection, _now: number, status: number, passed: boolean, bodyFailed: boolean, streamFailed: boolean): void {
    const statusFailed = !passed && !bodyFailed && !streamFailed;
    const retryAfter = statusFailed ? connection.retryAfter() : undefined;
    this.outcome = {
      error: undefined,
      status,
      passed,
      bodyFailed,
      streamFailed,
      retryAfterMs: retryAfter === undefined ? undefined : parseRetryAfter(retryAfter),
    };
  }

  failed(_connection: Connection, _now: number, outcome: ErrorClass | 'cancelled'): void {
    this.outcome = outcome === 'cancelled' ? CANCELLED : errorOutcome(outcome);
  }

  free(): void {
    const resolve = this.resolve!;
    this.resolve = null;
    this.request.lastConnection = this.connection;
    this.request.lastOutcome = this.outcome;
    resolve(this.outcome);
  }
}
