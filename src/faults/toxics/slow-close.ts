import { UsageError } from '../../errors.js';
import { tryParseDuration } from '../../util/duration.js';
import type { ToxicType } from './toxic.js';

/** `slow_close`: the data flows; the close (FIN) is passed on `delay` ms late. Short form: `slow_close:2s`. */
export const slowCloseToxic: ToxicType = {
  type: 'slow_close',
  summary: 'close delayed',
  argument: 'DURATION',
  attributes: [{ name: 'delay', unit: 'ms', default: 0, summary: 'how long the close is held back' }],
  fromArgument(argument) {
    const delay = tryParseDuration(argument ?? '');
    if (delay === undefined) throw new UsageError(`fault 'slow_close:${argument ?? ''}': expected a duration (slow_close:2s)`);
    return { delay };
  },
  stage({ delay }) {
    let endHeld = false;
    return {
      write(chunk, ops, done) {
        ops.push(chunk);
        done();
      },
      end(ops) {
        endHeld = true;
        ops.later(delay!, () => ops.end());
      },
      flush(ops) {
        if (endHeld) ops.end();
      },
    };
  },
};
