import { UsageError } from '../../errors.js';
import { tryParseDuration } from '../../util/duration.js';
import type { ToxicType } from './toxic.js';

/**
 * `timeout`: no data goes through (it is read and dropped); the connection is closed `timeout` ms after
 * the toxic took hold, or held open until a side leaves when it is 0. Short form: `timeout` (hold) or
 * `timeout:5s`.
 */
export const timeoutToxic: ToxicType = {
  type: 'timeout',
  summary: 'data stops; closed after the timeout',
  argument: 'DURATION (none: hold forever)',
  attributes: [{ name: 'timeout', unit: 'ms', default: 0, summary: 'when the connection is closed (0 = never)' }],
  fromArgument(argument) {
    if (argument === undefined) return { timeout: 0 };
    const timeout = tryParseDuration(argument);
    if (timeout === undefined)
      throw new UsageError(`fault 'timeout:${argument}': expected a duration (timeout:5s), or none to hold forever`);
    return { timeout };
  },
  stage({ timeout }) {
    return {
      // The clock runs from when the toxic took hold of the link, data or not (Toxiproxy).
      start(ops) {
        if (timeout! > 0) ops.later(timeout!, () => ops.close());
      },
      write: (_chunk, _ops, done) => done(),
      // A side that leaves ends the held connection, as in Toxiproxy.
      end: (ops) => ops.close(),
      // Taken off (a window's end): what it dropped is gone, so the connection cannot go on as if
      // nothing happened (a Redis client would read each answer for the command before). Closed, as
      // Toxiproxy's Cleanup does.
      flush: (ops) => ops.close(),
    };
  },
};
