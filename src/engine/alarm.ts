import { Worker } from 'node:worker_threads';

/**
 * The alarm thread wakes this long before a due time and spins the rest (ms): a futex sleep with a
 * timeout ends about 0.1 ms late (measured: p10 0.086, p50 0.105 ms).
 */
const SPIN_MS = 0.1;
/**
 * The alarm rings this long before each due time (ms): waking the owning thread takes 0.01-0.05 ms,
 * so it then waits out the rest itself (see OpenExecutor.pump), and sends on time.
 */
export const LEAD_MS = 0.03;
/** Due times the thread is given ahead (a ring of Float64). */
const AHEAD = 256;
/** Int32 slots of the shared state: due times written (-1: stop), due times passed. */
const WRITTEN = 0;
const PASSED = 1;
/** Byte offset of the ring of due times (ms on process.hrtime's clock, which all threads of a process share). */
const RING_OFFSET = 8;

/**
 * The alarm thread (plain JavaScript, evaluated as CommonJS). It takes the due times in turn from the
 * ring, sleeps in Atomics.wait (which takes a fractional timeout) until SPIN_MS before each, spins to
 * it, counts it passed and notifies; with no due time written, it waits for one. Each loop looks
 * again at what is written, so a stop (written -1) ends a sleep at once.
 */
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const state = new Int32Array(workerData, 0, 2);
const ring = new Float64Array(workerData, ${RING_OFFSET}, ${AHEAD});
const hrMs = () => { const [s, ns] = process.hrtime(); return s * 1e3 + ns / 1e6; };
let passed = 0;
for (;;) {
  const written = Atomics.load(state, ${WRITTEN});
  if (written < 0) break;
  if (passed >= written) { Atomics.wait(state, ${WRITTEN}, written); continue; }
  const at = ring[passed % ${AHEAD}];
  const left = at - hrMs();
  if (left > ${SPIN_MS}) { Atomics.wait(state, ${WRITTEN}, written, left - ${SPIN_MS}); continue; }
  while (hrMs() < at && Atomics.load(state, ${WRITTEN}) >= 0);
  Atomics.store(state, ${PASSED}, ++passed);
  Atomics.notify(state, ${PASSED});
}
`;

/**
 * process.hrtime's clock minus performance.now()'s (ms). Read in this order each sample comes out a
 * little large (never early: the thread must not ring before a due time as this thread reads it);
 * the smallest of a few is within a microsecond (the first call alone can be 0.04 ms slow).
 */
function clockOffsetMs(): number {
  let offset = Infinity;
  for (let i = 0; i < 5; i++) {
    const now = performance.now();
    const [s, ns] = process.hrtime();
    offset = Math.min(offset, s * 1e3 + ns / 1e6 - now);
  }
  return offset;
}

/** Atomics.waitAsync (V8 8.7, Node 16; TypeScript's lib has it from es2024). */
interface WithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

/**
 * Calls back on the owning thread at each due time of a schedule, within about 0.05 ms. setTimeout
 * counts whole milliseconds and fires 0-1 ms late, and that lateness would land in the open model's
 * latency from the schedule; spinning on this thread would block its I/O and burn a core at 1,000
 * requests/s. So a small worker thread sleeps precisely through the due times it is handed ahead and
 * wakes this one through Atomics.waitAsync, which resolves on this thread's event loop like any other
 * task: one wake of each thread per due time. If the alarm thread ever dies, setTimeout takes over.
 */
export class Alarm {
  private readonly state: Int32Array;
  private readonly ring: Float64Array;
  private readonly thread: Worker;
  /** process.hrtime's clock minus performance.now()'s (ms): they differ by the time origin only. */
  private readonly offsetMs: number;
  private dueAt: (k: number) => number = () => Infinity;
  private total = 0;
  private onTick: () => void = () => {};
  private written = 0;
  private passed = 0;
  private running = false;
  private failed = false;
  private fallback: NodeJS.Timeout | undefined;

  private constructor(buffer: SharedArrayBuffer) {
    this.state = new Int32Array(buffer, 0, 2);
    this.ring = new Float64Array(buffer, RING_OFFSET, AHEAD);
    this.offsetMs = clockOffsetMs();
    this.thread = new Worker(THREAD_SOURCE, { eval: true, workerData: buffer });
    this.thread.on('error', () => this.fail());
    this.thread.on('exit', () => this.fail());
  }

  /** Starts the alarm thread; resolves once it runs, so the first due time is met. */
  static async start(): Promise<Alarm> {
    const alarm = new Alarm(new SharedArrayBuffer(RING_OFFSET + AHEAD * 8));
    await new Promise<void>((resolve) => {
      alarm.thread.once('online', resolve);
      alarm.thread.once('exit', resolve);
    });
    // From here the run's own timers and sockets keep the process alive; the thread must not.
    alarm.thread.unref();
    return alarm;
  }

  /** Calls `onTick` LEAD_MS before dueAt(0), dueAt(1)... dueAt(total - 1) (performance.now() clock, ascending) until stop(). */
  run(dueAt: (k: number) => number, total: number, onTick: () => void): void {
    this.dueAt = dueAt;
    this.total = total;
    this.onTick = onTick;
    this.running = true;
    this.refill();
    if (this.failed) this.fallBack();
    else this.listen();
  }

  /** No more ticks; the thread ends. Idempotent. */
  stop(): void {
    this.running = false;
    clearTimeout(this.fallback);
    Atomics.store(this.state, WRITTEN, -1);
    Atomics.notify(this.state, WRITTEN);
    Atomics.notify(this.state, PASSED);
  }

  /**
   * Hands the thread the next due times, up to AHEAD beyond the last one passed. It is woken only if
   * it had run out; otherwise it finds them after its current sleep (an extra wake costs CPU).
   */
  private refill(): void {
    const until = Math.min(this.total, this.passed + AHEAD);
    if (this.written >= until) return;
    for (let k = this.written; k < until; k++) this.ring[k % AHEAD] = this.dueAt(k) - LEAD_MS + this.offsetMs;
    const dry = this.written <= Atomics.load(this.state, PASSED);
    this.written = until;
    if (this.failed) return;
    Atomics.store(this.state, WRITTEN, until);
    if (dry) Atomics.notify(this.state, WRITTEN);
  }

  /** Waits (without blocking) for the alarm thread to pass a due time. */
  private listen(): void {
    const seen = this.passed;
    const result = (Atomics as unknown as WithWaitAsync).waitAsync(this.state, PASSED, seen);
    if (result.async) void result.value.then(this.woken);
    else queueMicrotask(this.woken);
  }

  private readonly woken = (): void => {
    if (!this.running || this.failed) return;
    const passed = Atomics.load(this.state, PASSED);
    if (passed > this.passed) {
      this.passed = passed;
      this.refill();
      this.onTick();
    }
    if (this.running && this.passed < this.total) this.listen();
  };

  private fail(): void {
    if (this.failed) return;
    this.failed = true;
    if (this.running) this.fallBack();
  }

  /** Without the thread: setTimeout to the next due time (0-1 ms late; if it fires early, again). */
  private fallBack(): void {
    if (!this.running || this.passed >= this.total) return;
    this.fallback = setTimeout(
      () => {
        const now = performance.now() + LEAD_MS;
        if (now >= this.dueAt(this.passed)) {
          while (this.passed < this.total && this.dueAt(this.passed) <= now) this.passed++;
          this.onTick();
        }
        this.fallBack();
      },
      Math.max(0, this.dueAt(this.passed) - LEAD_MS - performance.now()),
    );
  }
}
