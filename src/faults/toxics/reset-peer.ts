import { UsageError } from '../../errors.js';
import { tryParseDuration } from '../../util/duration.js';
import type { ToxicType } from './toxic.js';

/**
 * `reset_peer`: once data arrives, the connection is reset (TCP RST) `timeout` ms later; the data is
 * dropped. Short form: `reset_peer` (at once) or `reset_peer:500ms`.
 */
export const resetPeerToxic: ToxicType = {
  type: 'reset_peer',
  summary: 'TCP RST after the timeout',
  argument: 'DURATION (none: at once)',
  attributes: [{ name: 'timeout', unit: 'ms', default: 0, summary: 'time from the first data to the reset' }],
  fromArgument(argument) {
    if (argument === undefined) return { timeout: 0 };
    const timeout = tryParseDuration(argument);
    if (timeout === undefined) throw new UsageError(`fault 'reset_peer:${argument}': expected a duration (reset_peer:500ms), or none`);
    return { timeout };
  },
  stage({ timeout }) {
    let armed = false;
    return {
      // Taken off once armed: the data it dropped is gone, so the reset comes now rather than never.
      flush(ops) {
        if (armed) ops.reset();
      },
      write(_chunk, ops, done) {
        if (!armed) {
          armed = true;
          if (timeout! <= 0) ops.reset();
          else ops.later(timeout!, () => ops.reset());
        }
        done();
      },
      end: (ops) => ops.end(),
    };
  },
};
