import { Worker } from 'node:worker_threads';

/** The alarm thread wakes this long before the time and spins the rest (ms): a futex sleep with a timeout ends about 0.1 ms late (measured: p10 0.086, p50 0.105 ms). */
const SPIN_MS = 0.1;

/**
 * The alarm thread (plain JavaScript, evaluated as CommonJS). Shared state: Int32 [0] the armed
 * alarm's number (-1: quit), [1] the number of the last alarm that went off; Float64 at byte 8 its
 * time in ms on process.hrtime's clock, which every thread of the process shares. It sleeps in Atomics.wait
 * (which takes a fractional timeout) until SPIN_MS before the time, spins to it, then notifies.
 */
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const state = new Int32Array(workerData, 0, 2);
const time = new Float64Array(workerData, 8, 1);
const SPIN_MS = ${SPIN_MS};
const hrMs = () => { const [s, ns] = process.hrtime(); return s * 1e3 + ns / 1e6; };
let seen = 0;
for (;;) {
  Atomics.wait(state, 0, seen);
  seen = Atomics.load(state, 0);
  if (seen < 0) break;
  let left = time[0] - hrMs();
  while (left > SPIN_MS && Atomics.wait(state, 0, seen, left - SPIN_MS) === 'timed-out') left = time[0] - hrMs();
  while (Atomics.load(state, 0) === seen && hrMs() < time[0]);
  if (Atomics.load(state, 0) !== seen) continue;
  Atomics.store(state, 1, seen);
  Atomics.notify(state, 1);
}
`;

/** Atomics.waitAsync (V8 8.7, Node 16; TypeScript's lib has it from es2024). */
interface WithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

/**
 * Wakes the thread that owns it at a set time, within about 0.05 ms. setTimeout counts whole
 * milliseconds and fires 0-1 ms late, and that lateness would land in the open model's latency from
 * the schedule; spinning on this thread would block its I/O and burn a core at 1,000 requests/s.
 * So a small worker thread sleeps precisely and wakes this one through Atomics.waitAsync, which
 * resolves on this thread's event loop like any other task. If that thread ever dies, the alarm
 * falls back to setTimeout.
 */
export class Alarm {
  private readonly state: Int32Array;
  private readonly time: Float64Array;
  private readonly thread: Worker;
  /** process.hrtime's clock minus performance.now()'s (ms): they differ by the time origin only. */
  private readonly offsetMs: number;
  /** Number of the armed alarm; 0 when none is. */
  private armed = 0;
  private last = 0;
  private listening = false;
  private callback: () => void = () => {};
  private fallback: NodeJS.Timeout | undefined;
  private failed = false;

  private constructor(buffer: SharedArrayBuffer) {
    this.state = new Int32Array(buffer, 0, 2);
    this.time = new Float64Array(buffer, 8, 1);
    const [s, ns] = process.hrtime();
    this.offsetMs = s * 1e3 + ns / 1e6 - performance.now();
    this.thread = new Worker(THREAD_SOURCE, { eval: true, workerData: buffer });
    this.thread.on('error', () => this.fail());
    this.thread.on('exit', () => this.fail());
  }

  /** Starts the alarm thread; resolves once it runs, so the first alarm is on time. */
  static async start(): Promise<Alarm> {
    const alarm = new Alarm(new SharedArrayBuffer(16));
    await new Promise<void>((resolve) => {
      alarm.thread.once('online', resolve);
      alarm.thread.once('exit', resolve);
    });
    // From here the run's own timers and sockets keep the process alive; the thread must not.
    alarm.thread.unref();
    return alarm;
  }

  /** Calls `callback` once at `atMs` (performance.now() clock), replacing any alarm set before. */
  set(atMs: number, callback: () => void): void {
    this.callback = callback;
    this.armed = this.last = this.last === 0x7fffffff ? 1 : this.last + 1;
    if (this.failed) {
      clearTimeout(this.fallback);
      this.fallback = setTimeout(this.ring, Math.max(0, atMs - performance.now()));
      return;
    }
    this.time[0] = atMs + this.offsetMs;
    Atomics.store(this.state, 0, this.armed);
    Atomics.notify(this.state, 0);
    this.listen();
  }

  cancel(): void {
    this.armed = 0;
    clearTimeout(this.fallback);
    if (!this.failed) {
      this.time[0] = Infinity;
      Atomics.store(this.state, 0, (this.last = this.last === 0x7fffffff ? 1 : this.last + 1));
      Atomics.notify(this.state, 0);
    }
  }

  /** Stops the thread. */
  close(): void {
    this.cancel();
    this.failed = true;
    Atomics.store(this.state, 0, -1);
    Atomics.notify(this.state, 0);
    Atomics.notify(this.state, 1);
  }

  /** Waits (without blocking) for the alarm thread's next notification. */
  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    const fired = Atomics.load(this.state, 1);
    const result = fired === this.armed ? undefined : (Atomics as unknown as WithWaitAsync).waitAsync(this.state, 1, fired);
    if (result?.async) void result.value.then(this.woken);
    else queueMicrotask(this.woken);
  }

  private readonly woken = (): void => {
    this.listening = false;
    if (this.armed === 0 || this.failed) return;
    if (Atomics.load(this.state, 1) === this.armed) this.ring();
    else this.listen();
  };

  private readonly ring = (): void => {
    if (this.armed === 0) return;
    this.armed = 0;
    this.callback();
  };

  private fail(): void {
    if (this.failed) return;
    this.failed = true;
    // An alarm that was armed goes off now rather than never.
    if (this.armed !== 0) this.fallback = setTimeout(this.ring, 0);
  }
}
