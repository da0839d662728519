import { LEAD_MS, type Alarm } from './alarm.js';
import type { Sender, SenderFactory } from './sender.js';
import { Executor } from './executor.js';
import type { LoadPlan } from './plan.js';
import type { Share } from './share.js';
import { LATE_START_MS } from '../metrics/snapshot.js';

/**
 * Open model: request g of the run is due at start + arrivals.dueMs(g) (g × 1000/rate for a plain
 * rate), whatever the responses do. A due request goes out on a free connection, or on a new one
 * while the share has fewer than its --max-connections; otherwise it waits for one to come free (the
 * queue is a counter, not a list). Latency is measured from the due time, so a stalled server shows in
 * the percentiles (coordinated omission corrected, as wrk2 does); the recorder keeps the service time
 * from the actual send beside it. The alarm wakes the executor within about 0.05 ms of a due time, so
 * the tool's own timer error stays out of the latency.
 *
 * A run bounded by -d (or stages) stops sending at its end: requests of the schedule still waiting
 * then are `dropped` (all of the schedule is due by then: it holds rate × duration requests).
 */
export class OpenExecutor extends Executor {
  private readonly free: Sender[] = [];
  /** Requests of this share sent so far, and due so far (as last looked): due - next are waiting. */
  private next = 0;
  private due = 0;
  /** Requests before this one have been counted in waitedForConnection if they had to wait. */
  private waitCounted = 0;
  private endTimer: NodeJS.Timeout | undefined;
  /** A look at opening connections is pending (setImmediate, or a timer while more would not help yet). */
  private growing = false;
  private growTimer: NodeJS.Timeout | undefined;
  private readonly wake = (): void => {
    if (this.sending) this.pump();
  };
  /**
   * Opens a connection for each request still waiting, up to the bound and up to what can help. It
   * runs from setImmediate, after the event loop has read every answer that had arrived, so answers
   * about to free a connection are not mistaken for busy ones. And with requests sent on schedule,
   * the ones in flight are those due since the oldest of them was sent: more connections than that
   * (plus one for the request now due) cannot be busy with the service. A process running late (its
   * own CPU the limit) sees young requests in flight and so does not open ever more connections,
   * falling further behind; a stalled service sees them age, and gets one more per due request.
   */
  private readonly grow = (): void => {
    this.growing = false;
    if (!this.sending) return;
    const now = performance.now();
    this.advanceDue(now);
    const waiting = this.due - this.next - this.free.length;
    let oldest = now;
    for (const connection of this.connections) if (connection.inFlight && connection.sentAt < oldest) oldest = connection.sentAt;
    const intervalMs = this.dueAt(this.next + 1) - this.dueAt(this.next);
    // Due times since the oldest was sent, counted up (it went out a little after its own), and this one.
    const useful = Math.ceil((now - oldest) / intervalMs) + 1;
    const room = this.share.maxConnections - this.connections.length;
    const opened = Math.max(0, Math.min(waiting, room, useful - this.connections.length));
    for (let i = 0; i < opened; i++) this.free.push(this.openConnection());
    if (opened < waiting && opened < room) {
      // Not yet: look again once the requests in flight are one due interval older.
      this.growing = true;
      this.growTimer = setTimeout(this.grow, Math.max(1, intervalMs));
    }
    this.pump();
  };

  constructor(
    plan: LoadPlan,
    share: Share,
    senders: SenderFactory,
    private readonly alarm: Alarm,
  ) {
    super(plan, share, senders);
  }

  protected start(): void {
    this.free.push(...this.connections);
    if (this.plan.requests === undefined) this.scheduleEnd();
    this.alarm.run((k) => this.dueAt(k), this.share.requests!, this.wake);
    this.pump();
  }

  protected onFree(connection: Sender): void {
    this.free.push(connection);
    this.pump();
  }

  protected override onStop(): void {
    clearTimeout(this.endTimer);
    clearTimeout(this.growTimer);
    this.alarm.stop();
    // Due and never sent (on an interrupt: due so far; at the end of -d: the rest of the schedule).
    this.advanceDue(performance.now());
    this.recorder.dropped = this.due - this.next;
  }

  private dueAt(k: number): number {
    return this.share.startMs + this.plan.arrivals!.dueMs(this.share.index + k * this.share.count);
  }

  /** Stops sending at start + duration (setTimeout may fire up to 1 ms early: then it waits again). */
  private scheduleEnd(): void {
    const remaining = this.share.startMs + this.plan.durationMs! - performance.now();
    if (remaining > 0) this.endTimer = setTimeout(() => this.scheduleEnd(), remaining);
    else setImmediate(this.end);
  }

  /**
   * The end of the schedule's time. It runs from setImmediate, after the event loop has read the
   * answers already in: a request is not dropped for a connection that was only waiting to be read.
   */
  private readonly end = (): void => {
    if (!this.sending) return;
    this.pump();
    if (!this.sending) return;
    this.due = this.share.requests!;
    this.noteConnections();
    this.stop();
  };

  private advanceDue(now: number): void {
    const total = this.share.requests!;
    while (this.due < total && this.dueAt(this.due) <= now) this.due++;
  }

  /**
   * Sends every due request a connection can be found for. It runs at each due time (the alarm), when
   * a connection comes free, and when connections have been opened.
   */
  private pump(): void {
    const total = this.share.requests!;
    // Each round finds at least one more request due: bounded by the schedule.
    for (;;) {
      const now = performance.now();
      this.advanceDue(now);
      while (this.next < this.due) {
        const sender = this.free.pop();
        if (sender === undefined) {
          if (!this.growing && this.connections.length < this.share.maxConnections) {
            this.growing = true;
            setImmediate(this.grow);
          }
          break;
        }
        const due = this.dueAt(this.next);
        if (now - due > LATE_START_MS) this.recorder.lateStarts++;
        const index = this.share.index + this.next * this.share.count;
        this.next++;
        sender.send(due, index);
      }
      this.noteConnections();
      if (this.next >= total) {
        // Schedule complete. A duration-bound run stops now, giving in-flight requests the grace period;
        // a count-bound run waits for its last responses (each bounded by --timeout).
        if (this.plan.requests === undefined || this.free.length === this.connections.length) this.stop();
        return;
      }
      if (this.next < this.due) return;
      // The alarm rings LEAD_MS early: wait out the last few microseconds here, then send on time.
      const nextDue = this.dueAt(this.next);
      if (nextDue - performance.now() > LEAD_MS) return;
      while (performance.now() < nextDue);
    }
  }

  /** The peak of connections in use; due requests left unsent at the bound found them all busy (each counted once). */
  private noteConnections(): void {
    const recorder = this.recorder;
    const inUse = this.connections.length - this.free.length;
    if (inUse > recorder.peakConnections) recorder.peakConnections = inUse;
    if (this.due > this.waitCounted && this.due > this.next && this.connections.length >= this.share.maxConnections) {
      recorder.waitedForConnection += this.due - Math.max(this.next, this.waitCounted);
      this.waitCounted = this.due;
    }
  }
}
