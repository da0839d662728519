import { UsageError } from '../../errors.js';
import type { ToxicType } from './toxic.js';

/** Largest piece sent at once under a bandwidth cap (ms of the rate): a large chunk goes out in 100 ms slices, as in Toxiproxy. */
const SLICE_MS = 100;

/**
 * `bandwidth`: at most `rate` KB/s (1 KB = 1000 bytes, Toxiproxy's unit) through this direction. Each
 * chunk is sent, then the stage waits the time its bytes take at the rate; a chunk larger than 100 ms
 * of the rate goes in 100 ms slices. Short form: `bandwidth:64` (KB/s).
 */
export const bandwidthToxic: ToxicType = {
  type: 'bandwidth',
  summary: 'throughput capped',
  argument: 'KB_PER_S',
  attributes: [{ name: 'rate', unit: 'KB/s', default: 0, summary: 'bytes per millisecond allowed through (0 = no cap)' }],
  fromArgument(argument) {
    const rate = Number(argument);
    if (argument === undefined || !/^\d+$/.test(argument) || !(rate > 0)) {
      throw new UsageError(`fault 'bandwidth:${argument ?? ''}': expected a rate in KB/s above 0 (bandwidth:64)`);
    }
    return { rate };
  },
  stage({ rate }) {
    /** Bytes per ms. */
    const perMs = rate!;
    if (perMs <= 0) return { write: (chunk, ops, done) => (ops.push(chunk), done()), end: (ops) => ops.end() };
    const slice = perMs * SLICE_MS;
    /** When the bytes sent so far have taken their time at the rate (performance.now(), ms). */
    let freeAtMs = 0;
    const send = (chunk: { data: Buffer; atMs: number }, ops: Parameters<ReturnType<ToxicType['stage']>['write']>[1], done: () => void) => {
      const now = performance.now();
      const waitMs = freeAtMs - now;
      if (waitMs > 0) {
        ops.later(waitMs, () => send(chunk, ops, done));
        return;
      }
      const piece = chunk.data.length > slice ? chunk.data.subarray(0, slice) : chunk.data;
      // Idle time is not credit: a burst after a pause is paced from now.
      freeAtMs = Math.max(freeAtMs, now) + piece.length / perMs;
      ops.push(piece === chunk.data ? chunk : { data: piece, atMs: chunk.atMs });
      if (piece === chunk.data) done();
      else send({ data: chunk.data.subarray(slice), atMs: chunk.atMs }, ops, done);
    };
    return { write: send, end: (ops) => ops.end() };
  },
};
