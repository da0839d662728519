import { refuseArgument, type Fault, type FaultType } from './fault.js';

/** `reset`: the connection is reset (TCP RST) with no response; curl reports exit 56. Connection-level. */
export const resetFault: FaultType = {
  type: 'reset',
  argument: 'none',
  create(argument): Fault {
    refuseArgument('reset', argument);
    return { name: 'reset', layer: 'connection', inject: (ops) => ops.reset() };
  },
};
