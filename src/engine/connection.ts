import { Client, type Dispatcher } from 'undici';
import type { Recorder } from '../metrics/recorder.js';
import { bodyPasses } from './checks.js';
import { classifyError, RequestCancelledError, RequestTimeoutError } from './classify.js';
import type { LoadPlan } from './plan.js';

/** Something that sends one request at a time for an executor: a plain connection, or a policy client. */
export interface Sender {
  readonly inFlight: boolean;
  /** When the request in flight (or the last one) was sent (ms, performance.now clock). */
  readonly sentAt: number;
  /** Sends request number `index`, scheduled at `scheduledAt` (ms, performance.now clock). */
  send(scheduledAt: number, index: number): void;
  /** Aborts the request if it has run longer than --timeout. */
  expireIfOverdue(now: number): void;
  /** Sending has stopped: start no further attempt (policy mode's retries and failovers). */
  stopSending(): void;
  /** Abandons the in-flight request (the run is stopping); it is counted as cancelled. */
  cancel(): void;
  close(): Promise<void>;
}

/** Told when a sender's request has ended (recorded, or cancelled) and it is free again. */
export type SettleListener = (sender: Sender) => void;

/**
 * One keep-alive HTTP/1.1 connection (an undici Client with pipelining 1) that sends one request at a
 * time. It is its own dispatch handler: undici calls onHeaders/onData/onComplete/onError on it directly,
 * so a request costs no promise, no response object and no per-request closure. The dispatch options
 * object is built once and reused; only templated path or body are rendered per request.
 */
export class Connection implements Sender {
  inFlight = false;
  private readonly client: Client;
  private readonly request: Dispatcher.DispatchOptions;
  private readonly keepBody: boolean;
  /** Send times on the performance.now() clock (ms): scheduled (open model) and actual. */
  private scheduledAt = 0;
  sentAt = 0;
  private status = 0;
  private afterHeaders = false;
  private chunks: Buffer[] = [];
  private keptBytes = 0;
  private abort: ((reason: Error) => void) | null = null;
  private stopping = false;
  /** True while inside client.dispatch: an error undici reports synchronously must not re-enter the executor. */
  private dispatching = false;

  constructor(
    private readonly plan: LoadPlan,
    private readonly recorder: Recorder,
    private readonly random: () => number,
    private readonly onSettled: SettleListener,
  ) {
    this.client = new Client(plan.origin, {
      pipelining: 1,
      // undici's idle timers are a backstop; the executor's sweep enforces the total --timeout.
      headersTimeout: plan.timeoutMs,
      bodyTimeout: plan.timeoutMs,
      connect: { rejectUnauthorized: !plan.insecure, timeout: plan.timeoutMs },
    });
    this.request = {
      origin: plan.origin,
      path: plan.path.constant ? plan.path.text : '/',
      method: plan.method as Dispatcher.HttpMethod,
      headers: plan.headers,
      body: plan.body?.constant ? Buffer.from(plan.body.text) : null,
    };
    this.keepBody = plan.checks.readsBody;
  }

  /** Sends request number `index`, scheduled at `scheduledAt` (ms, performance.now clock). */
  send(scheduledAt: number, index: number): void {
    const plan = this.plan;
    if (!plan.path.constant) this.request.path = plan.path.render(index, this.random);
    if (plan.body !== undefined && !plan.body.constant) this.request.body = plan.body.render(index, this.random);
    this.inFlight = true;
    this.status = 0;
    this.afterHeaders = false;
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

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    this.afterHeaders = true;
    return true;
  }

  onData(chunk: Buffer): boolean {
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
    if (passed && this.keepBody) {
      passed = bodyPasses(this.plan.checks, this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks));
      bodyFailed = !passed;
    }
    if (this.keepBody) {
      this.chunks = [];
      this.keptBytes = 0;
    }
    this.recorder.recordResponse(now, now - this.scheduledAt, now - this.sentAt, status, passed, bodyFailed);
    this.settle();
  }

  onError(error: Error): void {
    if (this.keepBody) {
      this.chunks = [];
      this.keptBytes = 0;
    }
    if (error instanceof RequestCancelledError || this.stopping) this.recorder.cancelled++;
    else this.recorder.recordError(performance.now(), classifyError(error, this.afterHeaders));
    // undici may be failing several queued requests in one loop (a refused connect): sending again from
    // inside that loop would corrupt its queue, so the connection is freed on the next turn.
    setImmediate(this.settleAfterError);
  }

  private readonly settleAfterError = (): void => this.settle();

  // Legacy-handler hooks undici may call; nothing to do for them.
  onResponseStarted(): void {}
  onUpgrade(): void {}
  onBodySent(): void {}

  private settle(): void {
    this.inFlight = false;
    this.abort = null;
    if (this.dispatching) setImmediate(this.onSettled, this);
    else this.onSettled(this);
  }
}
