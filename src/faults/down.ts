import { UsageError } from '../errors.js';
import type { Fault, FaultType } from './fault.js';

/**
 * `down`: connection refused. Not drawn per call: the proxy closes its listener (and drops open
 * connections) for each whole fault window, or for the whole run when there are no windows.
 */
export const downFault: FaultType = {
  type: 'down',
  argument: 'none',
  create(argument): Fault {
    if (argument !== undefined) throw new UsageError(`fault 'down:${argument}': down takes no argument`);
    return {
      name: 'down',
      wholeWindow: true,
      inject() {
        throw new Error('down acts on the listener, never on one call');
      },
    };
  },
};
