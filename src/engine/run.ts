import { Worker } from 'node:worker_threads';
import { Alarm } from './alarm.js';
import { mergeSnapshots, type RecorderSnapshot } from '../metrics/snapshot.js';
import { ClosedExecutor } from './closed.js';
import type { Executor } from './executor.js';
import { OpenExecutor } from './open.js';
import { sendersFor } from './policy-sender.js';
import type { LoadPlan } from './plan.js';
import { shareOf, type Share } from './share.js';
import type { ControlMessage, WorkerMessage, WorkerSetup } from './worker-protocol.js';
import type { LiveBoard } from '../metrics/live.js';
import { addEncoded, createLatencyHistogram, encodeHistogram } from '../metrics/histogram.js';
import type { TimelineSecond } from '../metrics/snapshot.js';
import { ThresholdWatch, type ThresholdAbort } from '../thresholds/watch.js';
import type { WorstWindow } from '../thresholds/evaluate.js';

/** Live figures for a progress line, sampled about once a second. */
export interface Progress {
  elapsedMs: number;
  total: number;
  failed: number;
  inFlight: number;
  /** Thresholds failing as of the last closed second (those measured per second), as written. */
  failing: readonly string[];
}

export interface EngineHooks {
  /** Aborting stops sending at once; in-flight requests get the grace period; the measurement is marked interrupted. */
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** Called just before the first request (chaos: starts the fault-window clock). */
  onStart?: () => void;
  /** Live metrics: the run registers how to read its counters here. */
  live?: LiveBoard;
  /** A threshold with `abort` failed: sending stops now (in-flight requests get the grace period). */
  onThresholdAbort?: (abort: ThresholdAbort) => void;
}

/** How often quiet seconds are closed for the live thresholds (ms): a failure is seen within this of its second's end. */
const WATCH_TICK_MS = 100;

/** What a run measured, raw: the orchestrators (src/session) build the result document from it. */
export interface Measurement {
  /** When the run was asked to start (before threads and the alarm were set up). */
  startedAt: Date;
  /** From the start of sending to the end of the last request, over all threads (ms). */
  durationMs: number;
  interrupted: boolean;
  /** A threshold with `abort` stopped the run: which, when and its value then. */
  abort?: ThresholdAbort;
  /** The worst window of each `over` threshold, by its source text (judged while the run went on). */
  windows?: Map<string, WorstWindow>;
  /** All threads' recorders merged. */
  snapshot: RecorderSnapshot;
}

/** Runs the plan, in this thread or in `plan.workers` threads, and returns what it measured. */
export async function measurePlan(plan: LoadPlan, hooks: EngineHooks = {}): Promise<Measurement> {
  const startedAt = new Date();
  const run = plan.workers > 1 ? runInWorkers(plan, hooks) : runInProcess(plan, hooks);
  return { startedAt, ...(await run) };
}

type RawRun = Omit<Measurement, 'startedAt'>;

/** The open model needs an alarm (started beforehand, so the first due time is met); see alarm.ts. */
export function createExecutor(plan: LoadPlan, share: Share, alarm: Alarm | undefined): Executor {
  const senders = sendersFor(plan);
  return plan.model === 'open' ? new OpenExecutor(plan, share, senders, alarm!) : new ClosedExecutor(plan, share, senders);
}

async function runInProcess(plan: LoadPlan, hooks: EngineHooks): Promise<RawRun> {
  const alarm = plan.model === 'open' ? await Alarm.start() : undefined;
  hooks.onStart?.();
  const startMs = performance.now();
  const executor = createExecutor(plan, shareOf(plan, 0, 1, startMs), alarm);
  if (hooks.live) hooks.live.engine = () => executor.live();
  const watch = watchThresholds(plan, hooks, () => executor.stop());
  // A second closed once the run is over (its last, partial one) is judged but stops nothing: there is nothing left to stop.
  if (watch.active) executor.recorder.onSecond = (second, lengthMs) => watch.add(second, lengthMs, executor.endedMs > 0);
  const watchTicker = watch.active ? setInterval(() => executor.recorder.tick(performance.now()), WATCH_TICK_MS) : undefined;
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    executor.stop();
  };
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const ticker = hooks.onProgress
    ? setInterval(() => {
        const { recorder } = executor;
        hooks.onProgress!({
          elapsedMs: performance.now() - startMs,
          total: recorder.total,
          failed: recorder.failed,
          inFlight: executor.inFlight,
          failing: watch.failing(),
        });
      }, 1000)
    : undefined;
  try {
    await executor.run();
    return { snapshot: executor.snapshot(), durationMs: executor.endedMs - startMs, interrupted, ...watch.finish() };
  } finally {
    clearInterval(ticker);
    clearInterval(watchTicker);
    hooks.signal?.removeEventListener('abort', onAbort);
    alarm?.stop();
  }
}

/**
 * Runs the plan in `plan.workers` threads. Each builds the plan again from its options, waits for a
 * common start time (epoch ms, so every thread's clock agrees), runs its share and sends back its
 * snapshot; the snapshots merge exactly.
 */
async function runInWorkers(plan: LoadPlan, hooks: EngineHooks): Promise<RawRun> {
  const n = plan.workers;
  const workers: Worker[] = [];
  const progress: Array<{ total: number; failed: number; dropped: number; inFlight: number }> = [];
  const ready: Array<Promise<void>> = [];
  const watch = watchThresholds(plan, hooks, () => {
    for (const worker of workers) worker.postMessage({ type: 'stop' } satisfies ControlMessage);
  });
  const seconds = new SecondMerger(n, (second, lengthMs, final) => watch.add(second, lengthMs, final));
  const results: Array<Promise<{ snapshot: RecorderSnapshot; endedEpochMs: number }>> = [];
  for (let k = 0; k < n; k++) {
    const setup: WorkerSetup = { options: plan.options, index: k, count: n };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: setup });
    workers.push(worker);
    progress.push({ total: 0, failed: 0, dropped: 0, inFlight: 0 });
    let markReady!: () => void;
    ready.push(new Promise((resolve) => (markReady = resolve)));
    results.push(
      new Promise((resolve, reject) => {
        worker.on('message', (message: WorkerMessage) => {
          if (message.type === 'ready') markReady();
          else if (message.type === 'progress') progress[k] = message;
          else if (message.type === 'second' && watch.active) seconds.add(message.second, message.lengthMs, message.final);
          else if (message.type === 'done') resolve(message);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => reject(new Error(`worker ${k} exited with code ${code} before its result`)));
      }),
    );
  }
  await Promise.all(ready);
  // Worker threads report counts twice a second; their histograms arrive only with the result.
  if (hooks.live) {
    hooks.live.engine = () => {
      const sum = progress.reduce((a, p) => ({
        total: a.total + p.total,
        failed: a.failed + p.failed,
        dropped: a.dropped + p.dropped,
        inFlight: a.inFlight + p.inFlight,
      }));
      return { ...sum, ok: sum.total - sum.failed, statusCodes: {}, errors: {}, latency: null, breakers: {} };
    };
  }
  // Start a little ahead so every thread receives the time before it arrives.
  const startEpochMs = performance.timeOrigin + performance.now() + 20;
  const startMs = startEpochMs - performance.timeOrigin;
  for (const worker of workers) worker.postMessage({ type: 'start', startEpochMs } satisfies ControlMessage);
  setTimeout(() => hooks.onStart?.(), Math.max(0, startMs - performance.now()));

  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    for (const worker of workers) worker.postMessage({ type: 'stop' } satisfies ControlMessage);
  };
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const ticker = hooks.onProgress
    ? setInterval(() => {
        const sum = progress.reduce((a, p) => ({
          total: a.total + p.total,
          failed: a.failed + p.failed,
          dropped: a.dropped + p.dropped,
          inFlight: a.inFlight + p.inFlight,
        }));
        hooks.onProgress!({ elapsedMs: performance.now() - startMs, ...sum, failing: watch.failing() });
      }, 1000)
    : undefined;
  try {
    const done = await Promise.all(results);
    const durationMs = Math.max(...done.map((d) => d.endedEpochMs)) - startEpochMs;
    seconds.flush();
    return { snapshot: mergeSnapshots(done.map((d) => d.snapshot)), durationMs, interrupted, ...watch.finish() };
  } finally {
    clearInterval(ticker);
    hooks.signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/**
 * The run's live thresholds: each closed second is judged; the first `abort` threshold to fail stops
 * the run (once, after the second is recorded). `finish` gives the measurement's abort and windows.
 */
function watchThresholds(
  plan: LoadPlan,
  hooks: EngineHooks,
  stop: () => void,
): {
  active: boolean;
  add(second: TimelineSecond, lengthMs: number, final: boolean): void;
  failing(): readonly string[];
  finish(): Pick<Measurement, 'abort' | 'windows'>;
} {
  const watch = new ThresholdWatch(plan.thresholds);
  return {
    active: watch.active,
    failing: () => watch.failing,
    add(second, lengthMs, final) {
      const abort = watch.add({ ...second, lengthMs }, !final);
      if (abort === undefined) return;
      hooks.onThresholdAbort?.(abort);
      // Not from inside the recorder's bookkeeping: on the next turn of the event loop.
      setImmediate(stop);
    },
    finish() {
      const windows = watch.finish();
      return { ...(watch.abort ? { abort: watch.abort } : {}), ...(windows.size > 0 ? { windows } : {}) };
    },
  };
}

/**
 * Worker threads close their seconds apart: a second goes on, merged, once every thread has closed
 * it (threads share the start time, so their seconds align); `flush` passes on the rest at the end.
 */
class SecondMerger {
  private readonly pending = new Map<
    number,
    { reports: number; second: TimelineSecond; histograms: string[]; lengthMs: number; final: boolean }
  >();
  private next = 0;

  constructor(
    private readonly threads: number,
    private readonly emit: (second: TimelineSecond, lengthMs: number, final: boolean) => void,
  ) {}

  add(second: TimelineSecond, lengthMs: number, final: boolean): void {
    let slot = this.pending.get(second.t);
    if (!slot) {
      slot = { reports: 0, second: { t: second.t, requests: 0, ok: 0, histogram: null }, histograms: [], lengthMs: 0, final: false };
      this.pending.set(second.t, slot);
    }
    slot.reports++;
    slot.second.requests += second.requests;
    slot.second.ok += second.ok;
    slot.lengthMs = Math.max(slot.lengthMs, lengthMs);
    slot.final ||= final;
    if (second.histogram !== null) slot.histograms.push(second.histogram);
    while (this.pending.get(this.next)?.reports === this.threads) this.pass(this.next++);
  }

  /** The run is over: what is left is judged, as final seconds. */
  flush(): void {
    for (const t of [...this.pending.keys()].sort((a, b) => a - b)) {
      this.pending.get(t)!.final = true;
      this.pass(t);
    }
  }

  private pass(t: number): void {
    const slot = this.pending.get(t)!;
    this.pending.delete(t);
    if (slot.histograms.length === 1) slot.second.histogram = slot.histograms[0]!;
    else if (slot.histograms.length > 1) {
      const histogram = createLatencyHistogram();
      for (const encoded of slot.histograms) addEncoded(histogram, encoded);
      slot.second.histogram = encodeHistogram(histogram);
      histogram.destroy();
    }
    this.emit(slot.second, slot.lengthMs, slot.final);
  }
}
