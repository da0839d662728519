import { refuseArgument, type Fault, type FaultType } from './fault.js';

/**
 * `timeout` (blackhole): the request is read, no answer is ever sent; the connection stays open until
 * the client gives up (the proxy destroys held connections when it closes). Connection-level.
 */
export const timeoutFault: FaultType = {
  type: 'timeout',
  argument: 'none',
  create(argument): Fault {
    refuseArgument('timeout', argument);
    return { name: 'timeout', layer: 'connection', inject: (ops) => ops.hold() };
  },
};
