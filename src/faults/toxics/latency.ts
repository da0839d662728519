import { UsageError } from '../../errors.js';
import { tryParseDuration } from '../../util/duration.js';
import type { Chunk, LinkOps, ToxicType } from './toxic.js';

/**
 * `latency`: each chunk goes on `latency` ms (± `jitter`) after it was read. Chunks are delayed from
 * their own arrival, not one after another, so a stream is shifted rather than slowed (Toxiproxy).
 * Short form: `latency:200ms`, or `latency:100ms~300ms` (= latency 200, jitter 100).
 */
export const latencyToxic: ToxicType = {
  type: 'latency',
  summary: 'each chunk delayed',
  argument: 'DURATION or MIN~MAX',
  attributes: [
    { name: 'latency', unit: 'ms', default: 0, summary: 'delay of each chunk' },
    { name: 'jitter', unit: 'ms', default: 0, summary: 'uniform spread either side of the delay' },
  ],
  fromArgument(argument) {
    const [lowText, highText] = (argument ?? '').split('~');
    const low = tryParseDuration(lowText ?? '');
    const high = highText === undefined ? low : tryParseDuration(highText);
    if (low === undefined || high === undefined || high < low) {
      throw new UsageError(`fault 'latency:${argument ?? ''}': expected a duration (latency:200ms) or a range (latency:100ms~300ms)`);
    }
    return { latency: Math.round((low + high) / 2), jitter: Math.round((high - low) / 2) };
  },
  stage({ latency, jitter }) {
    /** The chunk waiting for its time, and what to call once it is out. */
    let held: { chunk: Chunk; done: () => void } | undefined;
    const release = (ops: LinkOps) => {
      const { chunk, done } = held!;
      held = undefined;
      // Stamped with its release, so a latency toxic after this one adds its own (Toxiproxy moves the timestamp too).
      ops.push({ data: chunk.data, atMs: Math.max(chunk.atMs, performance.now()) });
      done();
    };
    return {
      write(chunk, ops, done) {
        const delayMs = jitter! > 0 ? latency! - jitter! + ops.random() * 2 * jitter! : latency!;
        const waitMs = chunk.atMs + delayMs - performance.now();
        held = { chunk, done };
        if (waitMs <= 0) release(ops);
        else ops.later(waitMs, () => release(ops));
      },
      end: (ops) => ops.end(),
      flush(ops) {
        if (held) release(ops);
      },
    };
  },
};
