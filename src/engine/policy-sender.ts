import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhenResult, type CircuitBreakerPolicy } from 'cockatiel';
import type { Recorder } from '../metrics/recorder.js';
import { RequestCancelledError } from './classify.js';
import { ConnectionAttempts, plainSenders, type PolicyRequest } from './connection.js';
import type { LoadPlan } from './plan.js';
import { Breaking, Failover, type PolicyCounters, RetryOn, Retrying } from './policies.js';
import {
  type AttemptOutcome,
  type AttemptSender,
  CANCELLED,
  errorOutcome,
  type Sender,
  type SenderFactory,
  type SettleListener,
} from './sender.js';

/**
 * An executor's Sender over an AttemptSender (policy mode: the policies around the providers'
 * connections): each request is one attempt() of it, and its outcome is recorded. Latency is from the
 * scheduled (or first) send to the final answer, retries included: what the caller of such a client
 * waits. Once sending stops no new attempt starts: a request waiting out a backoff is cancelled at
 * once, and one whose attempt then fails in a way --retry-on would retry ends as cancelled.
 */
export class AttemptsSender implements Sender {
  inFlight = false;
  sentAt = 0;
  private controller: AbortController | null = null;
  private stopping = false;

  /**
   * @param request told each request's start (scheduled time), which its attempts' streams count ttft
   * from, and told by the attempts which one came last
   */
  constructor(
    private readonly request: PolicyRequest,
    private readonly root: AttemptSender,
    private readonly rules: RetryOn,
    private readonly recorder: Recorder,
    private readonly onSettled: SettleListener,
  ) {}

  send(scheduledAt: number, index: number): void {
    this.inFlight = true;
    this.sentAt = performance.now();
    this.request.startedAt = scheduledAt;
    this.request.lastConnection = null;
    this.request.lastOutcome = null;
    const controller = new AbortController();
    this.controller = controller;
    void this.execute(scheduledAt, index, controller.signal).then(this.settle);
  }

  /** The attempt on the wire times out on its own connection's clock (--timeout per attempt). */
  expireIfOverdue(now: number): void {
    this.root.expireIfOverdue(now);
  }

  stopSending(): void {
    this.stopping = true;
    this.root.stopSending();
    if (!this.root.attempting) this.cancel();
  }

  cancel(): void {
    this.controller?.abort(new RequestCancelledError('run stopped'));
    this.root.cancel();
  }

  close(): Promise<void> {
    return this.root.close();
  }

  private readonly settle = (): void => {
    this.inFlight = false;
    this.controller = null;
    this.onSettled(this);
  };

  private async execute(scheduledAt: number, index: number, signal: AbortSignal): Promise<void> {
    const sentAt = this.sentAt;
    let outcome: AttemptOutcome;
    try {
      outcome = await untilAborted(this.root.attempt(index, signal), signal);
    } catch {
      outcome = signal.aborted ? CANCELLED : errorOutcome('other');
    }
    const now = performance.now();
    if (outcome.error === 'cancelled' || (this.stopping && this.rules.retryable(outcome))) {
      this.recorder.cancelled++;
      return;
    }
    // Streams, ttft and gaps once per request, from its final attempt: the attempts a retry or a failover
    // replaced are not what the caller saw (a breaker's refusal, the final outcome, sent nothing).
    const { lastConnection, lastOutcome } = this.request;
    if (lastOutcome === outcome) lastConnection!.commitStream(this.recorder);
    if (outcome.error !== undefined) this.recorder.recordError(now, outcome.error);
    else {
      const { status, passed, bodyFailed, streamFailed } = outcome;
      this.recorder.recordResponse(now, now - scheduledAt, now - sentAt, status, passed, bodyFailed, streamFailed);
    }
  }
}

/**
 * Policy mode: per connection of an executor, one ConnectionAttempts per provider, each in retry
 * around its breaker (--breaker), with failover over them (--failover). The breakers and the counters
 * are the thread's, shared by all its connections; the counters are read into the snapshot at the end.
 */
export function policySenders(plan: LoadPlan): SenderFactory {
  const policy = plan.policy!;
  const rules = new RetryOn(policy);
  const counters: PolicyCounters = { attempts: 0, retries: 0, failovers: 0, breakerRejections: 0 };
  const breakers = plan.targets.map((): CircuitBreakerPolicy | undefined =>
    policy.breaker
      ? circuitBreaker(
          handleWhenResult((outcome) => rules.failed(outcome as AttemptOutcome)),
          { halfOpenAfter: policy.breaker.halfOpenAfterMs, breaker: new ConsecutiveBreaker(policy.breaker.threshold) },
        )
      : undefined,
  );
  return {
    create: ({ plan, recorder, random, onSettled }) => {
      const request: PolicyRequest = { startedAt: 0, lastConnection: null, lastOutcome: null };
      const providers = plan.targets.map((target, i) => {
        const connection = new ConnectionAttempts(plan, target, random, counters, request);
        const breaker = breakers[i];
        return new Retrying(breaker ? new Breaking(connection, breaker, counters) : connection, policy, rules, counters);
      });
      const root = providers.length === 1 ? providers[0]! : new Failover(providers, rules, counters);
      return new AttemptsSender(request, root, rules, recorder, onSettled);
    },
    counters: () => ({ ...counters }),
    breakers: () => {
      const states: Record<string, 0 | 1 | 2> = {};
      breakers.forEach((breaker, i) => {
        if (breaker) states[i === 0 ? 'dependency' : `failover-${i}`] = breakerStateValue(breaker);
      });
      return states;
    },
  };
}

/** The senders of one executor: plain connections, or (policy mode) attempts composed with the policies. */
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
