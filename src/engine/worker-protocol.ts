import type { RecorderSnapshot, TimelineSecond } from '../metrics/snapshot.js';
import type { LoadOptions } from './options.js';

/** What a worker thread is given: the validated options (seed fixed) and which share it runs. */
export interface WorkerSetup {
  options: LoadOptions;
  index: number;
  count: number;
}

/** Worker → main thread: ready to start, counts twice a second, each closed second, then the snapshot once its share is done. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; total: number; failed: number; dropped: number; inFlight: number }
  /** Each second as it closes, for the thresholds judged while the run goes on (ThresholdWatch). */
  /** `final`: closed by the run's end (sending over), judged but never an abort. */
  | { type: 'second'; second: TimelineSecond; lengthMs: number; final: boolean }
  | { type: 'done'; snapshot: RecorderSnapshot; endedEpochMs: number };

/** Main thread → worker: the common start time (epoch ms), or stop sending now. */
export type ControlMessage = { type: 'start'; startEpochMs: number } | { type: 'stop' };
