import { parentPort, workerData } from 'node:worker_threads';
import { Alarm } from './alarm.js';
import { buildLoadPlan } from './plan.js';
import { createExecutor } from './run.js';
import { shareOf } from './share.js';
import type { ControlMessage, WorkerMessage, WorkerSetup } from './worker-protocol.js';

// One thread of a multi-threaded run (runInWorkers in run.ts): runs its share, sends back its snapshot.
const setup = workerData as WorkerSetup;
const port = parentPort!;
const plan = buildLoadPlan(setup.options);
const alarm = plan.model === 'open' ? await Alarm.start() : undefined;
let stopRequested = false;
let stopExecutor: (() => void) | undefined;

port.on('message', (message: ControlMessage) => {
  if (message.type === 'stop') {
    stopRequested = true;
    stopExecutor?.();
    return;
  }
  const startMs = message.startEpochMs - performance.timeOrigin;
  const executor = createExecutor(plan, shareOf(plan, setup.index, setup.count, startMs), alarm);
  stopExecutor = () => executor.stop();
  executor.recorder.onSecond = (second, lengthMs) =>
    port.postMessage({ type: 'second', second, lengthMs, final: executor.endedMs > 0 } satisfies WorkerMessage);
  const ticker = setInterval(() => {
    const { recorder } = executor;
    recorder.tick(performance.now());
    port.postMessage({
      type: 'progress',
      total: recorder.total,
      failed: recorder.failed,
      dropped: recorder.dropped,
      inFlight: executor.inFlight,
    } satisfies WorkerMessage);
  }, 500);
  // Wait for the common start time, then run.
  setTimeout(
    () => {
      if (stopRequested) executor.stop();
      void executor.run().then(() => {
        clearInterval(ticker);
        alarm?.stop();
        port.postMessage({
          type: 'done',
          snapshot: executor.snapshot(),
          endedEpochMs: performance.timeOrigin + executor.endedMs,
        } satisfies WorkerMessage);
      });
    },
    Math.max(0, startMs - performance.now()),
  );
});

port.postMessage({ type: 'ready' } satisfies WorkerMessage);
