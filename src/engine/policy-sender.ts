import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  retry,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import type { ErrorClass } from '../metrics/outcome.js';
import type { Recorder } from '../metrics/recorder.js';
import { RequestCancelledError } from './classify.js';
import { Connection, plainSenders, type ConnectionListener } from './connection.js';
import type { LoadPlan } from './plan.js';
import type { Sender, SenderContext, SenderFactory, SettleListener } from './sender.js';

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

/** An attempt in flight: its connection, its result once known, and how to hand that to cockatiel. */
interface Attempt {
  connection: Connection;
  result: Outcome | Error;
  resolve: (outcome: Outcome) => void;
  reject: (error: Error) => void;
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
 * retries and its breaker, then each failover provider in turn — around plain connections, one per
 * provider, which render, send and check each attempt. Latency is from the scheduled (or first) send
 * to the final answer, retries included: what the caller of such a client waits.
 * Once sending stops no new attempt starts: a request waiting in backoff, or whose attempt fails
 * after the stop and would be retried or failed over, is cancelled at once.
 */
export class PolicySender implements Sender, ConnectionListener {
  inFlight = false;
  sentAt = 0;
  private readonly connections: Connection[];
  private controller: AbortController | null = null;
  private stopping = false;
  private attempt: Attempt | null = null;

  constructor(
    private readonly plan: LoadPlan,
    private readonly recorder: Recorder,
    random: () => number,
    private readonly onSettled: SettleListener,
    private readonly shared: PolicyShared,
  ) {
    this.connections = plan.targets.map((target) => new Connection(plan, target, random, this));
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

  /** The attempt in flight times out on its own connection's clock (--timeout per attempt). */
  expireIfOverdue(now: number): void {
    this.attempt?.connection.expireIfOverdue(now);
  }

  stopSending(): void {
    this.stopping = true;
    if (this.attempt === null) this.cancel();
  }

  cancel(): void {
    this.controller?.abort(new RequestCancelledError('run stopped'));
    this.attempt?.connection.cancel();
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((connection) => connection.close()));
  }

  private async execute(scheduledAt: number, index: number, signal: AbortSignal): Promise<void> {
    const sentAt = this.sentAt;
    let last: unknown;
    for (let i = 0; i < this.connections.length; i++) {
      if (i > 0 && this.stopping) {
        this.recorder.cancelled++;
        return;
      }
      if (i > 0) this.shared.counters.failovers++;
      try {
        const execution = this.shared.policies[i]!.execute(({ signal: attemptSignal }) => this.attemptOn(i, index, attemptSignal), signal);
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
      this.recorder.recordError(
        now,
        last instanceof AttemptFailure ? (last.errorClass as ErrorClass) : last instanceof BrokenCircuitError ? 'breaker' : 'other',
      );
    }
  }

  /** One attempt on provider i's connection: resolves with a final outcome, or rejects with AttemptFailure. */
  private attemptOn(i: number, index: number, policySignal: AbortSignal): Promise<Outcome> {
    // Cancelled while cockatiel waited out a backoff: no attempt.
    if (policySignal.aborted) return Promise.reject(policySignal.reason as Error);
    this.shared.counters.attempts++;
    const connection = this.connections[i]!;
    return new Promise<Outcome>((resolve, reject) => {
      this.attempt = { connection, result: new Error('attempt not ended'), resolve, reject };
      connection.send(performance.now(), index);
    });
  }

  // ---- how each attempt ends, told by its connection ----

  answered(connection: Connection, _now: number, status: number, passed: boolean, bodyFailed: boolean): void {
    const policy = this.plan.policy!;
    let result: Outcome | Error = { status, passed, bodyFailed };
    if (!passed && !bodyFailed && policy.retryStatus[status] === 1) {
      result = new AttemptFailure('status', status, true, retryAfterMs(connection.retryAfter()));
    } else if (bodyFailed && policy.retryClasses.has('body')) {
      result = new AttemptFailure('body', status, true, undefined);
    }
    this.attempt!.result = result;
  }

  failed(_connection: Connection, _now: number, outcome: ErrorClass | 'cancelled'): void {
    this.attempt!.result =
      outcome === 'cancelled'
        ? new RequestCancelledError('run stopped')
        : new AttemptFailure(outcome, 0, this.plan.policy!.retryClasses.has(outcome), undefined);
  }

  free(): void {
    const { result, resolve, reject } = this.attempt!;
    this.attempt = null;
    if (!(result instanceof Error)) {
      resolve(result);
      return;
    }
    // Sending has stopped: a failure that would be retried ends the request as cancelled instead.
    if (this.stopping && result instanceof AttemptFailure && result.retryable) this.cancel();
    reject(result);
  }
}

/** Policy mode: each executor's connections wrapped in the policies its thread shares. */
export function policySenders(plan: LoadPlan): SenderFactory {
  const shared = new PolicyShared(plan);
  return {
    create: ({ plan, recorder, random, onSettled }: SenderContext) => new PolicySender(plan, recorder, random, onSettled, shared),
    counters: () => ({ ...shared.counters }),
    breakers: () => {
      const states: Record<string, 0 | 1 | 2> = {};
      shared.breakers.forEach((breaker, i) => {
        if (breaker) states[i === 0 ? 'dependency' : `failover-${i}`] = breakerStateValue(breaker);
      });
      return states;
    },
  };
}

/** The senders of one executor: plain connections, or (policy mode) the same wrapped in the policies. */
export function sendersFor(plan: LoadPlan): SenderFactory {
  return plan.policy ? policySenders(plan) : plainSenders;
}

/**
 * Settles as `work` does, or rejects with the signal's reason as soon as it aborts (cockatiel looks at
 * the signal only after a backoff).
 */
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
function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
