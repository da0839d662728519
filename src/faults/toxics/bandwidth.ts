import { UsageError } from '../../errors.js';
import type { Chunk, LinkOps, ToxicType } from './toxic.js';

/** Largest piece sent at once under a bandwidth cap (ms of the rate): a large chunk goes out in 100 ms slices, as in Toxiproxy. */
const SLICE_MS = 100;

/**
 * `bandwidth`: at most `rate` KB/s (1 KB = 1000 bytes, Toxiproxy's unit) through this direction. Each
 * piece goes once its own bytes have taken their time at the rate (after the pieces before it); a chunk larger than 100 ms
 * of the rate goes in 100 ms slices. Short form: `bandwidth:64` (KB/s).
 */
export const bandwidthToxic: ToxicType = {
  type: 'bandwidth',
  summary: 'throughput capped',
  argument: 'KB_PER_S',
  attributes: [{ name: 'rate', unit: 'KB/s', default: 0, summary: 'KB (1000 bytes) per second allowed through (0 = no cap)' }],
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
    const slice = perMs * SLICE_MS;
    /** When the bytes sent so far have taken their time at the rate (performance.now(), ms). */
    let freeAtMs = 0;
    /** The rest of a chunk still to go, and what to call once it is out. */
    let held: { chunk: Chunk; done: () => void } | undefined;
    const send = (ops: LinkOps) => {
      const { chunk, done } = held!;
      const piece = chunk.data.length > slice ? chunk.data.subarray(0, slice) : chunk.data;
      // A piece goes once its bytes have taken their time at the rate; idle time is no credit.
      const now = performance.now();
      freeAtMs = Math.max(freeAtMs, now) + piece.length / perMs;
      ops.later(freeAtMs - now, () => {
        if (piece === chunk.data) {
          held = undefined;
          ops.push(chunk);
          done();
          return;
        }
        ops.push({ data: piece, atMs: chunk.atMs });
        held = { chunk: { data: chunk.data.subarray(slice), atMs: chunk.atMs }, done };
        send(ops);
      });
    };
    return {
      write(chunk, ops, done) {
        if (perMs <= 0) {
          ops.push(chunk);
          done();
          return;
        }
        held = { chunk, done };
        send(ops);
      },
      end: (ops) => ops.end(),
      flush(ops) {
        if (!held) return;
        const { chunk, done } = held;
        held = undefined;
        ops.push(chunk);
        done();
      },
    };
  },
};
