import { refuseArgument, type Fault, type FaultType } from './fault.js';

/**
 * `down`: connection refused. Not drawn per call: the proxy closes its listener (and drops open
 * connections) for each whole fault window, or for the whole run when there are no windows.
 * Connection-level: a TCP listener closes the same way.
 */
export const downFault: FaultType = {
  type: 'down',
  argument: 'none',
  create(argument): Fault {
    refuseArgument('down', argument);
    return {
      name: 'down',
      layer: 'connection',
      wholeWindow: true,
      inject() {
        throw new Error('down acts on the listener, never on one call');
      },
    };
  },
};
