import { Recorder } from '../metrics/recorder.js';
import { createRandom } from '../util/random.js';
import type { RecorderSnapshot } from '../metrics/snapshot.js';
import type { EngineView } from '../metrics/live.js';
import type { LoadPlan } from './plan.js';
import type { Share } from './share.js';
import type { Sender, SenderFactory } from './sender.js';

/**
 * Shared machinery of the executors: the connections, the timeout sweep, the stop with its grace
 * period, and completion. Subclasses decide when to send; the sender factory decides what a
 * connection is (plain, or wrapped in the policies).
 */
export abstract class Executor {
  readonly recorder: Recorder;
  protected readonly connections: Sender[] = [];
  private readonly random: () => number;
  private readonly onSettled = (sender: Sender): void => this.settled(sender);
  protected sending = true;
  /** When the last request ended (performance.now() ms): the end of the run; closing the connections follows. */
  endedMs = 0;
  private finished!: () => void;
  private readonly done: Promise<void>;
  private sweepTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    protected readonly plan: LoadPlan,
    protected readonly share: Share,
    private readonly senders: SenderFactory,
  ) {
    this.recorder = new Recorder(share.startMs, plan.model === 'open');
    this.done = new Promise((resolve) => (this.finished = resolve));
    this.random = createRandom(plan.seed + share.index);
    for (let i = 0; i < share.concurrency; i++) this.openConnection();
  }

  /** Adds a connection (it connects on its first request). */
  protected openConnection(): Sender {
    const sender = this.senders.create({ plan: this.plan, recorder: this.recorder, random: this.random, onSettled: this.onSettled });
    this.connections.push(sender);
    return sender;
  }

  /** Runs to completion (or until stop() and its grace period) and closes every connection. */
  async run(): Promise<Recorder> {
    // Sweep often enough that a timeout fires within 2% of its value plus event-loop lag (every 1-50 ms).
    const sweepEveryMs = Math.min(50, Math.max(1, this.plan.timeoutMs / 50));
    this.sweepTimer = setInterval(() => this.sweep(), sweepEveryMs);
    if (this.sending) this.start();
    this.checkDone();
    await this.done;
    this.endedMs = performance.now();
    clearInterval(this.sweepTimer);
    clearTimeout(this.graceTimer);
    await Promise.all(this.connections.map((connection) => connection.close()));
    this.recorder.finish(performance.now());
    return this.recorder;
  }

  /**
   * Stops sending, new attempts of policy mode included. In-flight requests get the grace period to
   * finish (counted as usual), then are cancelled. Idempotent.
   */
  stop(): void {
    if (!this.sending) return;
    this.sending = false;
    this.onStop();
    for (const connection of this.connections) connection.stopSending();
    if (this.connections.some((c) => c.inFlight)) {
      this.graceTimer = setTimeout(() => this.cancelInFlight(), this.plan.graceMs);
    }
    this.checkDone();
  }

  /** Everything measured, with the senders' own counters (policy mode: attempts, retries...). Call after run(). */
  snapshot(): RecorderSnapshot {
    const snapshot = this.recorder.snapshot();
    const counters = this.senders.counters?.();
    if (counters) snapshot.counters = counters;
    return snapshot;
  }

  /** Live counts for --metrics-port (breakers by role: 'dependency', then 'failover-1', 'failover-2'...). */
  live(): EngineView {
    return { ...this.recorder.live(), inFlight: this.inFlight, breakers: this.senders.breakers?.() ?? {} };
  }

  get inFlight(): number {
    let n = 0;
    for (const connection of this.connections) if (connection.inFlight) n++;
    return n;
  }

  /** Begins sending. */
  protected abstract start(): void;
  /** A connection is free again: send on it or leave it idle. */
  protected abstract onFree(sender: Sender): void;
  /** Hook for subclasses to clear their own timers when sending stops. */
  protected onStop(): void {}

  private settled(sender: Sender): void {
    if (this.sending) this.onFree(sender);
    if (!this.sending) this.checkDone();
  }

  private checkDone(): void {
    if (!this.sending && !this.connections.some((c) => c.inFlight)) this.finished();
  }

  private cancelInFlight(): void {
    for (const connection of this.connections) connection.cancel();
  }

  private sweep(): void {
    const now = performance.now();
    for (const connection of this.connections) connection.expireIfOverdue(now);
  }
}
