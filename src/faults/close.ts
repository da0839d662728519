import { refuseArgument, type Fault, type FaultType } from './fault.js';

/** `close`: the connection is closed cleanly (FIN) with no response at all; curl reports exit 52 (empty reply). Connection-level. */
export const closeFault: FaultType = {
  type: 'close',
  argument: 'none',
  create(argument): Fault {
    refuseArgument('close', argument);
    return { name: 'close', layer: 'connection', inject: (ops) => ops.close() };
  },
};
