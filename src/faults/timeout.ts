import { UsageError } from '../errors.js';
import type { Fault, FaultType } from './fault.js';

/** `timeout` (blackhole): the request is read, no answer is ever sent; the connection stays open until the client gives up. */
export const timeoutFault: FaultType = {
  type: 'timeout',
  argument: 'none',
  create(argument): Fault {
    if (argument !== undefined) throw new UsageError(`fault 'timeout:${argument}': timeout takes no argument`);
    return {
      name: 'timeout',
      inject(call) {
        call.request.resume();
        // Nothing is written. The proxy destroys held sockets when it closes.
      },
    };
  },
};
