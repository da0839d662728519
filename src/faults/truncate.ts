import { UsageError } from '../errors.js';
import { afterEvents } from './events.js';
import type { Fault, FaultType } from './fault.js';

/**
 * `truncate:BYTES` (default: half the body) or `truncate:Nevents` (a server-sent-events stream ends
 * after N events): the upstream's status and headers, then only part of the body, then the
 * connection closes; with a Content-Length, curl reports exit 18. A replayed stream keeps its
 * recorded chunking and timing up to the cut: a stream that dies mid-answer. HTTP only (it needs the
 * whole body: half of it, its events, never all of it); on a bare connection the cut is
 * `pass({ cutAfter })`, Toxiproxy's limit_data.
 */
export const truncateFault: FaultType = {
  type: 'truncate',
  argument: 'BYTES kept (default half), or Nevents',
  create(argument): Fault {
    const events = argument === undefined ? undefined : /^(\d+)events?$/.exec(argument);
    if (argument !== undefined && !events && !/^\d+$/.test(argument)) {
      throw new UsageError(
        `fault 'truncate:${argument}': the argument is the number of body bytes kept (0 or more), or of events (truncate:3events)`,
      );
    }
    const keepEvents = events ? Number(events[1]) : undefined;
    const keepBytes = argument === undefined || events ? undefined : Number(argument);
    return {
      name: argument === undefined ? 'truncate' : `truncate:${argument}`,
      layer: 'http',
      inject(ops) {
        ops.fetchUpstream((answer) => {
          const whole = answer.body.length;
          // An empty body cannot be cut short.
          if (whole === 0) ops.notApplicable();
          const wanted = keepEvents !== undefined ? afterEvents(answer.body, keepEvents) : (keepBytes ?? Math.floor(whole / 2));
          ops.send(answer, { cutAfter: Math.min(wanted, Math.max(0, whole - 1)) });
        });
      },
    };
  },
};
