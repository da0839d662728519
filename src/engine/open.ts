import type { Sender } from './connection.js';
import { Executor, type Share } from './executor.js';
import type { LoadPlan } from './plan.js';

/** A request sent more than this long after its scheduled time is counted as a late start (ms). */
export const LATE_START_MS = 2;

/**
 * Open model: request g of the run is due at start + arrivals.dueMs(g) (g × 1000/rate for a plain
 * rate), whatever the responses do.
 * Due requests wait for a free connection (the queue is a counter, not a list), and their latency is
 * measured from the due time, so a stalled server shows in the percentiles (coordinated omission
 * corrected, as wrk2 does). The recorder keeps the service time from the actual send beside it.
 */
export class OpenExecutor extends Executor {
  private readonly free: Sender[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(plan: LoadPlan, share: Share) {
    super(plan, share);
  }

  protected start(): void {
    this.free.push(...this.connections);
    this.pump();
  }

  protected onFree(connection: Sender): void {
    this.free.push(connection);
    this.pump();
  }

  protected override onStop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private dueAt(k: number): number {
    return this.share.startMs + this.plan.arrivals!.dueMs(this.share.index + k * this.share.count);
  }

  /** Sends every request that is due while a connection is free, then sleeps until the next one is. */
  private pump(): void {
    const total = this.share.requests!;
    const now = performance.now();
    while (this.next < total && this.free.length > 0) {
      const due = this.dueAt(this.next);
      if (due > now) break;
      if (now - due > LATE_START_MS) this.recorder.lateStarts++;
      const index = this.share.index + this.next * this.share.count;
      this.next++;
      this.free.pop()!.send(due, index);
    }
    if (this.next >= total) {
      // Schedule complete. A duration-bound run stops now, giving in-flight requests the grace period;
      // a count-bound run waits for its last responses (each bounded by --timeout).
      if (this.plan.requests === undefined || this.free.length === this.connections.length) this.stop();
      return;
    }
    if (this.free.length > 0 && this.timer === undefined) {
      const wait = Math.max(0, this.dueAt(this.next) - now);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.sending) this.pump();
      }, wait);
    }
  }
}
