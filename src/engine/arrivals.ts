import { UsageError } from '../errors.js';
import { tryParseDuration } from '../util/duration.js';

/** One step of an open-model ramp: `rate` requests per second for `duration`. */
export interface Stage {
  duration: number | string;
  rate: number;
}

/**
 * When each request of the open model is due: request g (0-based, numbered across workers) at
 * dueMs(g) from the start. A plain rate is one step; stages are steps in turn (k6's
 * ramping-arrival-rate ramps linearly; resil holds each rate for its stage, so the count per stage
 * is exact and easy to check).
 */
export interface ArrivalSchedule {
  total: number;
  dueMs(g: number): number;
  /** The stages as run, for reports. */
  steps: Array<{ durationMs: number; rate: number; requests: number }>;
}

export function constantArrivals(rate: number, total: number): ArrivalSchedule {
  const intervalMs = 1000 / rate;
  return { total, dueMs: (g) => g * intervalMs, steps: [{ durationMs: total * intervalMs, rate, requests: total }] };
}

/** Builds the schedule of a list of stages; a bad stage is a UsageError naming it. */
export function stagedArrivals(stages: readonly Stage[]): ArrivalSchedule {
  if (stages.length === 0) throw new UsageError('stages: give at least one {duration, rate}');
  const steps = stages.map((stage, i) => {
    const durationMs = typeof stage.duration === 'number' ? stage.duration : tryParseDuration(stage.duration);
    if (durationMs === undefined || !(durationMs > 0))
      throw new UsageError(`stages[${i}].duration: '${stage.duration}' is not a duration above zero`);
    if (!(Number.isFinite(stage.rate) && stage.rate >= 0)) throw new UsageError(`stages[${i}].rate: '${stage.rate}' must be a number >= 0`);
    return { durationMs, rate: stage.rate, requests: Math.floor((durationMs * stage.rate) / 1000) };
  });
  // First request number and start time (ms) of each step.
  const firstIndex: number[] = [];
  const startMs: number[] = [];
  let index = 0;
  let time = 0;
  for (const step of steps) {
    firstIndex.push(index);
    startMs.push(time);
    index += step.requests;
    time += step.durationMs;
  }
  return {
    total: index,
    steps,
    dueMs(g) {
      let i = steps.length - 1;
      while (i > 0 && g < firstIndex[i]!) i--;
      return startMs[i]! + ((g - firstIndex[i]!) * 1000) / steps[i]!.rate;
    },
  };
}
