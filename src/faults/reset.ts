import { UsageError } from '../errors.js';
import type { Fault, FaultType } from './fault.js';

/** `reset`: the connection is reset (TCP RST) with no response; curl reports exit 56. */
export const resetFault: FaultType = {
  type: 'reset',
  argument: 'none',
  create(argument): Fault {
    if (argument !== undefined) throw new UsageError(`fault 'reset:${argument}': reset takes no argument`);
    return {
      name: 'reset',
      inject(call) {
        call.request.socket.resetAndDestroy();
      },
    };
  },
};
