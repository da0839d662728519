import { UsageError } from '../errors.js';
import type { Fault, FaultType } from './fault.js';

/** `close`: the connection is closed cleanly (FIN) with no response at all; curl reports exit 52 (empty reply). */
export const closeFault: FaultType = {
  type: 'close',
  argument: 'none',
  create(argument): Fault {
    if (argument !== undefined) throw new UsageError(`fault 'close:${argument}': close takes no argument`);
    return {
      name: 'close',
      inject(call) {
        call.request.socket.end();
        call.request.socket.destroySoon();
      },
    };
  },
};
