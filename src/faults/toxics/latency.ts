import { UsageError } from '../../errors.js';
import { tryParseDuration } from '../../util/duration.js';
import type { ToxicType } from './toxic.js';

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
    return {
      write(chunk, ops, done) {
        const delayMs = jitter! > 0 ? latency! - jitter! + ops.random() * 2 * jitter! : latency!;
        const waitMs = chunk.atMs + delayMs - performance.now();
        if (waitMs <= 0) {
          ops.push(chunk);
          done();
          return;
        }
        ops.later(waitMs, () => {
          ops.push(chunk);
          done();
        });
      },
      end: (ops) => ops.end(),
    };
  },
};
