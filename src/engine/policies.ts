import { BrokenCircuitError, type CircuitBreakerPolicy, handleWhenResult, type RetryPolicy, retry } from 'cockatiel';
import type { PolicyPlan } from './policy-options.js';
import { type AttemptOutcome, type AttemptSender, CANCELLED, errorOutcome } from './sender.js';

// The policies of policy mode, each an AttemptSender around another (or, for failover, around a list):
// retry(breaker(connection)) per provider, failover over the providers. Each knows only the
// AttemptSender contract, so each wraps any attempt sender (another transport's, another policy).

/** What policy mode counts, per thread: attempts sent, retries, failovers, attempts a breaker refused. */
export interface PolicyCounters {
  attempts: number;
  retries: number;
  failovers: number;
  breakerRejections: number;
}

/** What --retry-on makes of an outcome: whether to try again on the same provider, whether it failed. */
export class RetryOn {
  constructor(private readonly policy: PolicyPlan) {}

  /**
   * An error class or status in --retry-on, a failed body check with 'body' in it, a stream with an
   * error event with 'stream' in it ('cancelled' never).
   */
  retryable(outcome: AttemptOutcome): boolean {
    if (outcome.error !== undefined) return this.policy.retryClasses.has(outcome.error);
    if (outcome.bodyFailed) return this.policy.retryClasses.has('body');
    if (outcome.streamFailed) return this.policy.retryClasses.has('stream');
    return !outcome.passed && this.policy.retryStatus[outcome.status] === 1;
  }

  /**
   * A failure to a breaker and to failover: every error but 'cancelled', a stream that carried an error
   * event (the dependency failed mid-answer, as when it cuts a stream: both are the class `stream`), and
   * every answer worth a retry. An answer that failed its checks but is not retried (a 404 without 4xx
   * in --retry-on, a body check without `body`) is final: those checks are the caller's, not the
   * dependency's own word that it failed.
   */
  failed(outcome: AttemptOutcome): boolean {
    if (outcome.error !== undefined) return outcome.error !== 'cancelled';
    return outcome.streamFailed || this.retryable(outcome);
  }
}

/**
 * Retries around one attempt sender: cockatiel's retry, up to --retries more attempts of what
 * --retry-on names, waiting the plan's backoff (at least a failure's Retry-After, see policy-options.ts).
 * Once sending stops nothing is retried: the retryable outcome is returned as it is.
 */
export class Retrying implements AttemptSender {
  private stopping = false;
  private readonly policy: RetryPolicy;

  constructor(
    private readonly inner: AttemptSender,
    plan: PolicyPlan,
    rules: RetryOn,
    counters: PolicyCounters,
  ) {
    // Unref'd backoff timers: a request cancelled at stop leaves cockatiel's wait behind, and that
    // wait must not hold the process (it sends nothing when it ends: the request's signal is aborted).
    // A retry policy holds no state between executions: one per sender is the same as one per thread.
    this.policy = retry(
      handleWhenResult((outcome) => !this.stopping && rules.retryable(outcome as AttemptOutcome)),
      { maxAttempts: plan.retries, backoff: plan.backoff },
    ).dangerouslyUnref();
    this.policy.onRetry(() => counters.retries++);
  }

  get attempting(): boolean {
    return this.inner.attempting;
  }

  attempt(index: number, signal: AbortSignal): Promise<AttemptOutcome> {
    return this.policy.execute(() => this.inner.attempt(index, signal), signal);
  }

  expireIfOverdue(now: number): void {
    this.inner.expireIfOverdue(now);
  }

  stopSending(): void {
    this.stopping = true;
    this.inner.stopSending();
  }

  cancel(): void {
    this.inner.cancel();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Thrown inside the breaker for a cancelled attempt, which the breaker counts neither as a success nor as a failure. */
const cancelledAttempt = new Error('attempt cancelled');

function throwIfCancelled(outcome: AttemptOutcome): AttemptOutcome {
  if (outcome.error === 'cancelled') throw cancelledAttempt;
  return outcome;
}

/**
 * A circuit breaker around one attempt sender: cockatiel's, shared by every sender of the thread to
 * one provider so it sees all the provider's traffic. It counts what RetryOn calls failed; while open
 * it refuses attempts, which end as 'breaker' (counted in `counters.breakerRejections`).
 */
export class Breaking implements AttemptSender {
  constructor(
    private readonly inner: AttemptSender,
    private readonly breaker: CircuitBreakerPolicy,
    private readonly counters: PolicyCounters,
  ) {}

  get attempting(): boolean {
    return this.inner.attempting;
  }

  async attempt(index: number, signal: AbortSignal): Promise<AttemptOutcome> {
    try {
      return (await this.breaker.execute(() => this.inner.attempt(index, signal).then(throwIfCancelled), signal)) as AttemptOutcome;
    } catch (error) {
      // The request was cancelled meanwhile (at stop, while a retry waited out its backoff): no rejection to count.
      if (signal.aborted) return CANCELLED;
      if (error instanceof BrokenCircuitError) {
        this.counters.breakerRejections++;
        return errorOutcome('breaker');
      }
      if (error === cancelledAttempt) return CANCELLED;
      throw error;
    }
  }

  expireIfOverdue(now: number): void {
    this.inner.expireIfOverdue(now);
  }

  stopSending(): void {
    this.inner.stopSending();
  }

  cancel(): void {
    this.inner.cancel();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Failover over a list of attempt senders (the providers, in order): a request goes to the first; when
 * the outcome failed (RetryOn.failed, after that sender's own policies), to the next, and so on; the
 * last outcome stands. Once sending stops no further provider is tried: the request is cancelled.
 */
export class Failover implements AttemptSender {
  private stopping = false;

  constructor(
    private readonly providers: readonly AttemptSender[],
    private readonly rules: RetryOn,
    private readonly counters: PolicyCounters,
  ) {}

  get attempting(): boolean {
    for (const provider of this.providers) if (provider.attempting) return true;
    return false;
  }

  async attempt(index: number, signal: AbortSignal): Promise<AttemptOutcome> {
    let outcome = await this.providers[0]!.attempt(index, signal);
    for (let i = 1; i < this.providers.length && this.rules.failed(outcome); i++) {
      if (this.stopping || signal.aborted) return CANCELLED;
      this.counters.failovers++;
      outcome = await this.providers[i]!.attempt(index, signal);
    }
    return outcome;
  }

  /** At most one provider has an attempt on the wire; the others have nothing to expire or cancel. */
  expireIfOverdue(now: number): void {
    for (const provider of this.providers) provider.expireIfOverdue(now);
  }

  stopSending(): void {
    this.stopping = true;
    for (const provider of this.providers) provider.stopSending();
  }

  cancel(): void {
    for (const provider of this.providers) provider.cancel();
  }

  async close(): Promise<void> {
    await Promise.all(this.providers.map((provider) => provider.close()));
  }
}
