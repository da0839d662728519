import type { Sender } from './sender.js';
import { Executor } from './executor.js';

/**
 * Closed model: every connection loops request → response until the share's request count is sent
 * or the duration has passed. Throughput is whatever the server allows.
 */
export class ClosedExecutor extends Executor {
  private sent = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;

  protected start(): void {
    if (this.plan.durationMs !== undefined) this.stopAtDeadline();
    for (const connection of this.connections) this.onFree(connection);
  }

  /** Stops sending at start + duration (setTimeout may fire up to 1 ms early: then it waits again). */
  private stopAtDeadline(): void {
    const remaining = this.share.startMs + this.plan.durationMs! - performance.now();
    if (remaining > 0) this.deadlineTimer = setTimeout(() => this.stopAtDeadline(), remaining);
    else this.stop();
  }

  protected onFree(connection: Sender): void {
    const limit = this.share.requests;
    if (limit !== undefined && this.sent >= limit) {
      // Count reached: once the last response is in, the run is over.
      if (!this.connections.some((c) => c.inFlight)) this.stop();
      return;
    }
    const index = this.share.index + this.sent * this.share.count;
    this.sent++;
    connection.send(performance.now(), index);
  }

  protected override onStop(): void {
    clearTimeout(this.deadlineTimer);
  }
}
