import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, retry, wrap, type CircuitBreakerPolicy, type IPolicy } from 'cockatiel';
import { Client } from 'undici';
import type { ErrorClass } from '../metrics/outcome.js';
import type { Recorder } from '../metrics/recorder.js';
import { bodyPasses } from './checks.js';
import { classifyError, RequestCancelledError } from './classify.js';
import type { SettleListener, Sender } from './connection.js';
import type { LoadPlan } from './plan.js';

/** One failed attempt. `retryable` says whether the policy may try again on the same provider. */
export class AttemptFailure extends Error {
  constructor(
    readonly errorClass: ErrorClass | 'status',
    readonly status: number,
    readonly retryable: boolean,
    readonly retryAfterMs: number | undefined,
  ) {
    super(errorClass === 'status' ? `status ${status}` : errorClass);
  }
}

interface Outcome {
  status: number;
  passed: boolean;
  bodyFailed: boolean;
}

/**
 * The policies of one thread: per provider a retry (with backoff, honouring Retry-After) around a
 * circuit breaker, both from cockatiel, shared by every connection of the thread so a breaker sees
 * all the provider's traffic. Counters are plain numbers read into the snapshot at the end.
 */
export class PolicyShared {
  readonly policies: IPolicy[];
  /** Each provider's breaker (absent without --breaker), for live metrics. */
  readonly breakers: Array<CircuitBreakerPolicy | undefined> = [];
  readonly counters = { attempts: 0, retries: 0, failovers: 0, breakerRejections: 0 };

  constructor(plan: LoadPlan) {
    const policy = plan.policy!;
    this.policies = plan.targets.map(() => {
      // Unref'd backoff timers: a request cancelled at stop leaves cockatiel's wait behind, and that
      // wait must not hold the process (it sends nothing when it ends: the request's signal is aborted).
      const retryPolicy = retry(
        handleWhen((error) => error instanceof AttemptFailure && error.retryable),
        { maxAttempts: policy.retries, backoff: policy.backoff },
      ).dangerouslyUnref();
      retryPolicy.onRetry(() => this.counters.retries++);
      if (!policy.breaker) {
        this.breakers.push(undefined);
        return retryPolicy;
      }
      const breakerPolicy = circuitBreaker(
        handleWhen((error) => error instanceof AttemptFailure),
        { halfOpenAfter: policy.breaker.halfOpenAfterMs, breaker: new ConsecutiveBreaker(policy.breaker.threshold) },
      );
      this.breakers.push(breakerPolicy);
      return wrap(retryPolicy, breakerPolicy);
    });
  }
}

/**
 * Policy mode's sender: one request is a policy execution — attempts on the first provider with
 * retries and its breaker, then each failover provider in turn. Latency is from the scheduled (or
 * first) send to the final answer, retries included: what the caller of such a client waits.
 * Once sending stops no new attempt starts: a request waiting in backoff, or whose attempt fails
 * after the stop and would be retried or failed over, is cancelled at once.
 */
export class PolicySender implements Sender {
  inFlight = false;
  sentAt = 0;
  private readonly clients: Client[];
  private controller: AbortController | null = null;
  private stopping = false;
  private attempting = false;

  constructor(
    private readonly plan: LoadPlan,
    private readonly recorder: Recorder,
    private readonly random: () => number,
    private readonly onSettled: SettleListener,
    private readonly shared: PolicyShared,
  ) {
    this.clients = plan.targets.map((target) => new Client(target.origin, { pipelining: 1, connect: { rejectUnauthorized: !plan.insecure } }));
  }

  send(scheduledAt: number, index: number): void {
    this.inFlight = true;
    this.sentAt = performance.now();
    const controller = new AbortController();
    this.controller = controller;
    void this.execute(scheduledAt, index, controller.signal).then(() => {
      this.inFlight = false;
      this.controller = null;
      this.onSettled(this);
    });
  }

  /** Per-attempt timeouts are enforced by each attempt's own signal. */
  expireIfOverdue(): void {}

  stopSending(): void {
    this.stopping = true;
    if (!this.attempting) this.cancel();
  }

  cancel(): void {
    this.controller?.abort(new RequestCancelledError('run stopped'));
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.destroy()));
  }

  private async execute(scheduledAt: number, index: number, signal: AbortSignal): Promise<void> {
    const sentAt = this.sentAt;
    let last: unknown;
    for (let i = 0; i < this.clients.length; i++) {
      if (i > 0 && this.stopping) {
        this.recorder.cancelled++;
        return;
      }
      if (i > 0) this.shared.counters.failovers++;
      try {
        const execution = this.shared.policies[i]!.execute(({ signal: attemptSignal }) => this.attempt(i, index, attemptSignal), signal);
        const outcome = await untilAborted(execution, signal);
        const now = performance.now();
        this.recorder.recordResponse(now, now - scheduledAt, now - sentAt, outcome.status, outcome.passed, outcome.bodyFailed);
        return;
      } catch (error) {
        if (signal.aborted) {
          this.recorder.cancelled++;
          return;
        }
        if (error instanceof BrokenCircuitError) this.shared.counters.breakerRejections++;
        last = error;
      }
    }
    const now = performance.now();
    if (last instanceof AttemptFailure && last.errorClass === 'status') {
      this.recorder.recordResponse(now, now - scheduledAt, now - sentAt, last.status, false, false);
    } else if (last instanceof AttemptFailure && last.errorClass === 'body') {
      this.recorder.recordResponse(now, now - scheduledAt, now - sentAt, last.status, false, true);
    } else {
      this.recorder.recordError(now, last instanceof AttemptFailure ? (last.errorClass as ErrorClass) : last instanceof BrokenCircuitError ? 'breaker' : 'other');
    }
  }

  /** One HTTP attempt on provider i: resolves with a final outcome, or throws AttemptFailure. */
  private async attempt(i: number, index: number, policySignal: AbortSignal): Promise<Outcome> {
    // Cancelled while cockatiel waited out a backoff: no attempt.
    if (policySignal.aborted) throw policySignal.reason;
    this.attempting = true;
    try {
      return await this.attemptOnce(i, index, policySignal);
    } catch (error) {
      // Sending has stopped: a failure that would be retried ends the request as cancelled instead.
      if (this.stopping && error instanceof AttemptFailure && error.retryable) this.cancel();
      throw error;
    } finally {
      this.attempting = false;
    }
  }

  private async attemptOnce(i: number, index: number, policySignal: AbortSignal): Promise<Outcome> {
    this.shared.counters.attempts++;
    const plan = this.plan;
    const target = plan.targets[i]!;
    const timeout = AbortSignal.timeout(plan.timeoutMs);
    const signal = AbortSignal.any([policySignal, timeout]);
    const policy = plan.policy!;
    let afterHeaders = false;
    try {
      const response = await this.clients[i]!.request({
        path: target.path.constant ? target.path.text : target.path.render(index, this.random),
        method: plan.method as 'GET',
        headers: plan.headers,
        body: plan.body === undefined ? null : plan.body.constant ? plan.body.text : plan.body.render(index, this.random),
        signal,
      });
      afterHeaders = true;
      const status = response.statusCode;
      let body: Buffer | undefined;
      if (plan.checks.readsBody) body = await readCapped(response.body, plan.maxBodyBytes);
      else await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
      if (plan.checks.statusAllowed[status] !== 1) {
        if (policy.retryStatus[status] === 1) throw new AttemptFailure('status', status, true, retryAfterMs(response.headers['retry-after']));
        return { status, passed: false, bodyFailed: false };
      }
      if (body !== undefined && !bodyPasses(plan.checks, body)) {
        if (policy.retryClasses.has('body')) throw new AttemptFailure('body', status, true, undefined);
        return { status, passed: false, bodyFailed: true };
      }
      return { status, passed: true, bodyFailed: false };
    } catch (error) {
      if (error instanceof AttemptFailure) throw error;
      if (policySignal.aborted) throw error;
      const errorClass: ErrorClass = timeout.aborted ? 'timeout' : classifyError(error, afterHeaders);
      throw new AttemptFailure(errorClass, 0, policy.retryClasses.has(errorClass), undefined);
    }
  }
}

/** Settles as `work` does, or rejects with the signal's reason as soon as it aborts (cockatiel looks at the signal only after a backoff). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** cockatiel's circuit state as the metric resil_breaker_state has it: 0 closed, 1 open (or isolated), 2 half-open. */
export function breakerStateValue(breaker: CircuitBreakerPolicy): 0 | 1 | 2 {
  return breaker.state === CircuitState.Closed ? 0 : breaker.state === CircuitState.HalfOpen ? 2 : 1;
}

/** Retry-After in seconds or as an HTTP date, to milliseconds. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function readCapped(body: AsyncIterable<Buffer>, cap: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of body) {
    if (kept < cap) {
      const part = chunk.length <= cap - kept ? chunk : chunk.subarray(0, cap - kept);
      chunks.push(part);
      kept += part.length;
    }
  }
  return Buffer.concat(chunks);
}
