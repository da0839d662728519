import { refuseArgument, type Fault, type FaultType } from './fault.js';

/** `reset`: the connection is reset (TCP RST) with no response; curl reports exit 56. */
export const resetFault: FaultType = {
  type: 'reset',
  argument: 'none',
  create(argument): Fault {
    refuseArgument('reset', argument);
    return {
      name: 'reset',
      inject(call) {
        call.request.socket.resetAndDestroy();
      },
    };
  },
};
