import type { Sender } from './connection.js';
import { Executor } from './executor.js';

/**
 * Closed model: every connection loops request → response until the share's request count is sent
 * or the duration has passed. Throughput is whatever the server allows.
 */
export class ClosedExecutor extends Executor {
  private sent = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;

  protected start(): void {
    const { durationMs } = this.plan;
    if (durationMs !== undefined) {
      const remaining = this.share.startMs + durationMs - performance.now();
      this.deadlineTimer = setTimeout(() => this.stop(), Math.max(0, remaining));
    }
    for (const connection of this.connections) this.onFree(connection);
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
