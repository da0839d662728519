import { ERROR_CLASSES, type ErrorClass } from '../metrics/outcome.js';
import type { Recorder } from '../metrics/recorder.js';
import type { LoadPlan } from './plan.js';

/** Something that sends one request at a time for an executor: a plain connection, or attempts run by the policies. */
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

/** What an executor gives each sender it opens: what to send, where to record, whom to tell when free. */
export interface SenderContext {
  plan: LoadPlan;
  recorder: Recorder;
  /** The executor's seeded generator, for templated paths and bodies. */
  random: () => number;
  onSettled: SettleListener;
}

/**
 * Makes one executor's senders (one per connection, opened as the executor needs them) and reports
 * what they share. The executor never knows which kind it runs: plain connections (connection.ts),
 * or attempt senders composed with retry, breaker and failover (policies.ts, policy-sender.ts).
 */
export interface SenderFactory {
  create(context: SenderContext): Sender;
  /** Extra counters for the snapshot (policy mode: attempts, retries, failovers, breaker rejections). */
  counters?(): Record<string, number>;
  /** Live breaker states by role ('dependency', 'failover-1'...): 0 closed, 1 open, 2 half-open. */
  breakers?(): Record<string, 0 | 1 | 2>;
}

/**
 * How one attempt ended: an answer (`error` undefined) with its status and the checks' verdict, or no
 * complete answer: an error class ('breaker': a circuit breaker refused the attempt) or 'cancelled'
 * (the run stopped).
 */
export interface AttemptOutcome {
  readonly error: ErrorClass | 'cancelled' | undefined;
  /** The answer's status (0 without an answer). */
  readonly status: number;
  /**
   * The answer passed the checks; `bodyFailed`: its status passed, its body did not; `streamFailed`: its
   * status passed, and it was a stream that carried an error event.
   */
  readonly passed: boolean;
  readonly bodyFailed: boolean;
  readonly streamFailed: boolean;
  /** A failed status's Retry-After (ms), if the answer carried one: a retry waits at least that long. */
  readonly retryAfterMs: number | undefined;
}

/**
 * Makes attempts at one request at a time and says how each ended. A plain connection is one
 * (ConnectionAttempts, connection.ts), and so is each policy around another (policies.ts: retry,
 * breaker, failover), so a policy wraps any attempt sender: another transport's, or another policy.
 */
export interface AttemptSender {
  /** An attempt is on the wire (not waiting out a backoff). */
  readonly attempting: boolean;
  /**
   * Attempts request number `index` (a policy: as many times, on as many providers, as it decides) and
   * resolves with how the attempt, or the policy's last one, ended; never rejects. With `signal`
   * aborted no attempt starts: the outcome is 'cancelled'.
   */
  attempt(index: number, signal: AbortSignal): Promise<AttemptOutcome>;
  /** Aborts the attempt on the wire if it has run longer than --timeout (each attempt has its own). */
  expireIfOverdue(now: number): void;
  /** Sending has stopped: start no further attempt for the request in flight. */
  stopSending(): void;
  /** Abandons the attempt on the wire (the run is stopping); it ends as 'cancelled'. */
  cancel(): void;
  close(): Promise<void>;
}

/** The outcome of an attempt cancelled, or never started because the request was. */
export const CANCELLED: AttemptOutcome = Object.freeze({
  error: 'cancelled',
  status: 0,
  passed: false,
  bodyFailed: false,
  streamFailed: false,
  retryAfterMs: undefined,
});

const ERROR_OUTCOMES = Object.fromEntries(
  ERROR_CLASSES.map((error) => [
    error,
    Object.freeze({ error, status: 0, passed: false, bodyFailed: false, streamFailed: false, retryAfterMs: undefined }),
  ]),
) as Record<ErrorClass, AttemptOutcome>;

/** The outcome of an attempt that ended without a complete answer (one shared object per class). */
export function errorOutcome(error: ErrorClass): AttemptOutcome {
  return ERROR_OUTCOMES[error];
}
