import { UsageError } from '../errors.js';
import { tryParseDuration } from '../util/duration.js';
import { afterEvents, countEvents, isEventStream, splitChunks } from './events.js';
import type { Fault, FaultType } from './fault.js';

/** Longest stall (ms). */
const MAX_STALL_MS = 24 * 3_600_000;

/**
 * `stall:DUR[@N]`: the answer's first N events (default half of them, at least 1, at most all but the
 * last), then nothing for DUR, then the rest with its own gaps: a stream that stops mid-answer and
 * goes on. An answer that is no event stream stalls after half its bytes. HTTP only.
 */
export const stallFault: FaultType = {
  type: 'stall',
  argument: 'DURATION[@N events before it]',
  create(argument): Fault {
    const [durationText, eventsText] = (argument ?? '').split('@');
    const stallMs = tryParseDuration(durationText ?? '');
    if (argument === undefined || stallMs === undefined || (eventsText !== undefined && !/^[1-9]\d*$/.test(eventsText))) {
      throw new UsageError(
        `fault 'stall:${argument ?? ''}': expected a duration and optionally @N events before it (1 or more), e.g. stall:5s or stall:5s@3`,
      );
    }
    // setTimeout fires at once past 2^31-1 ms (about 24.8 days): a stall is held to a day.
    if (stallMs > MAX_STALL_MS) throw new UsageError(`fault 'stall:${argument}': the stall is longer than 24h`);
    const keep = eventsText === undefined ? undefined : Number(eventsText);
    return {
      name: `stall:${argument}`,
      layer: 'http',
      inject(ops) {
        ops.fetchUpstream((answer) => {
          let cut: number;
          if (isEventStream(answer)) {
            const events = countEvents(answer.body);
            cut = afterEvents(answer.body, Math.max(1, Math.min(keep ?? Math.floor(events / 2), events - 1)));
          } else cut = Math.floor(answer.body.length / 2);
          const { before, after } = splitChunks(answer, cut);
          // Nothing after the cut (a stream of one event, an empty body): there is nothing to hold back.
          if (after.length === 0) ops.notApplicable();
          ops.send({ ...answer, chunks: [...before, ...after.map((chunk) => ({ atMs: chunk.atMs + stallMs, bytes: chunk.bytes }))] }, {});
        });
      },
    };
  },
};
