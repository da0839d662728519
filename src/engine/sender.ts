import type { Recorder } from '../metrics/recorder.js';
import type { LoadPlan } from './plan.js';

/** Something that sends one request at a time for an executor: a plain connection, or one wrapped in the policies. */
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
 * or the same connections wrapped in retry, breaker and failover (policy-sender.ts).
 */
export interface SenderFactory {
  create(context: SenderContext): Sender;
  /** Extra counters for the snapshot (policy mode: attempts, retries, failovers, breaker rejections). */
  counters?(): Record<string, number>;
  /** Live breaker states by role ('dependency', 'failover-1'...): 0 closed, 1 open, 2 half-open. */
  breakers?(): Record<string, 0 | 1 | 2>;
}
