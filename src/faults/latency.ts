import { UsageError } from '../errors.js';
import { tryParseDuration } from '../util/duration.js';
import type { Fault, FaultType } from './fault.js';

/** `latency:DUR` or `latency:MIN~MAX` (uniform): the upstream's answer, that much later. Connection-level. */
export const latencyFault: FaultType = {
  type: 'latency',
  argument: 'DURATION or MIN~MAX',
  create(argument): Fault {
    const [lowText, highText] = (argument ?? '').split('~');
    const low = tryParseDuration(lowText ?? '');
    const high = highText === undefined ? low : tryParseDuration(highText);
    if (low === undefined || high === undefined || high < low) {
      throw new UsageError(`fault 'latency:${argument ?? ''}': expected a duration (latency:200ms) or a range (latency:100ms~300ms)`);
    }
    const span = high - low;
    return {
      name: `latency:${argument}`,
      layer: 'connection',
      inject(ops) {
        const delayMs = span === 0 ? low : low + ops.random() * span;
        ops.later(delayMs, () => ops.passThrough());
      },
    };
  },
};
