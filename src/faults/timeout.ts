import { refuseArgument, type Fault, type FaultType } from './fault.js';

/** `timeout` (blackhole): the request is read, no answer is ever sent; the connection stays open until the client gives up. */
export const timeoutFault: FaultType = {
  type: 'timeout',
  argument: 'none',
  create(argument): Fault {
    refuseArgument('timeout', argument);
    return {
      name: 'timeout',
      inject(call) {
        call.request.resume();
        // Nothing is written. The proxy destroys held sockets when it closes.
      },
    };
  },
};
