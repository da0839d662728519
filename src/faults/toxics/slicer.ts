import { UsageError } from '../../errors.js';
import { tryParseDuration } from '../../util/duration.js';
import type { Chunk, LinkOps, ToxicType } from './toxic.js';

/**
 * `slicer`: each chunk is cut into pieces of about `average_size` bytes (± `size_variation`), sent
 * `delay` µs apart. Cut by halving, as Toxiproxy does. Short form: `slicer:64`, `slicer:64~16` (size
 * and variation), `slicer:64~16/500us` (and the gap).
 */
export const slicerToxic: ToxicType = {
  type: 'slicer',
  summary: 'data cut into small pieces with gaps',
  argument: 'SIZE[~VARIATION][/GAP]',
  attributes: [
    { name: 'average_size', unit: 'bytes', default: 0, summary: 'mean piece size (0 = no cutting)' },
    { name: 'size_variation', unit: 'bytes', default: 0, summary: 'spread of the piece sizes; below average_size' },
    { name: 'delay', unit: 'µs', default: 0, summary: 'gap between pieces' },
  ],
  fromArgument(argument) {
    const match = /^(\d+)(?:~(\d+))?(?:\/(.+))?$/.exec(argument ?? '');
    const gapMs = match?.[3] === undefined ? 0 : tryParseDuration(match[3]);
    if (!match || gapMs === undefined || Number(match[1]) === 0 || Number(match[2] ?? 0) >= Number(match[1])) {
      throw new UsageError(
        `fault 'slicer:${argument ?? ''}': expected SIZE[~VARIATION][/GAP] in bytes, variation below the size (slicer:64~16/500us)`,
      );
    }
    return { average_size: Number(match[1]), size_variation: Number(match[2] ?? 0), delay: Math.round(gapMs * 1000) };
  },
  stage({ average_size: average, size_variation: variation, delay }) {
    const gapMs = delay! / 1000;
    /** Piece boundaries of [start, end), by halving until a piece is within the variation of the average. */
    const cut = (start: number, end: number, random: () => number, into: number[]): void => {
      if (end - start - average! <= variation!) {
        into.push(end);
        return;
      }
      let middle = start + Math.floor((end - start) / 2);
      if (variation! > 0) middle += Math.floor(random() * variation! * 2) - variation!;
      cut(start, middle, random, into);
      cut(middle, end, random, into);
    };
    /** The part of a chunk still to go out in pieces, when its next piece is due (performance.now(), ms), and what to call once it is out. */
    let held: { chunk: Chunk; ends: number[]; from: number; dueMs: number; done: () => void } | undefined;
    // Pieces go out on a schedule, `gapMs` apart: a timer fires 1 ms apart at best, so every piece due
    // by then goes at once (a 100 µs gap sends about ten a tick, not one a millisecond).
    const next = (ops: LinkOps) => {
      const h = held!;
      const now = performance.now();
      do {
        const to = h.ends.shift()!;
        ops.push({ data: h.chunk.data.subarray(h.from, to), atMs: h.chunk.atMs });
        h.from = to;
        h.dueMs += gapMs;
      } while (h.ends.length > 0 && h.dueMs <= now);
      if (h.ends.length > 0) ops.later(h.dueMs - now, () => next(ops));
      else {
        // The gap follows the last piece too, as in Toxiproxy: the next chunk's first piece waits for it.
        held = undefined;
        if (gapMs > 0) ops.later(h.dueMs - now, h.done);
        else h.done();
      }
    };
    return {
      write(chunk: Chunk, ops: LinkOps, done) {
        if (average! <= 0) {
          ops.push(chunk);
          return done();
        }
        const ends: number[] = [];
        cut(0, chunk.data.length, ops.random, ends);
        held = { chunk, ends, from: 0, dueMs: performance.now(), done };
        next(ops);
      },
      end: (ops) => ops.end(),
      flush(ops) {
        if (!held) return;
        const { chunk, from, done } = held;
        held = undefined;
        ops.push({ data: chunk.data.subarray(from), atMs: chunk.atMs });
        done();
      },
    };
  },
};
