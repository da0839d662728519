import { UsageError } from '../../errors.js';
import { FAULT_TYPES, checkWholeWindowAlone, splitFaultMix, type MixFault, type WeightedFault } from '../../faults/registry.js';
import { TOXIC_TYPES, toxicFromArgument } from '../../faults/toxics/registry.js';
import type { StreamDirection, ToxicSpec } from '../../faults/toxics/toxic.js';
import { closestName } from '../../util/suggest.js';

/** A TCP proxy's fault: a toxic put on the connections it is drawn for, or `down` (no toxic: the listener closes). */
export interface TcpFault extends MixFault {
  readonly toxic?: ToxicSpec;
}

const DOWN: TcpFault = { name: 'down', wholeWindow: true };

/** Every fault a TCP upstream takes in `faults`: the toxics, and down. */
export const TCP_FAULT_NAMES: readonly string[] = [...TOXIC_TYPES.keys(), 'down'];

/**
 * A TCP proxy's `faults` mix: 'latency:200ms=3,reset_peer=1', each toxic on `stream`. HTTP faults
 * (status, truncate...) are refused with the reason: there is no status line on a TCP connection.
 */
export function tcpFaultMix(stream: StreamDirection): (text: string) => WeightedFault<TcpFault>[] {
  return (text) => {
    const mix = splitFaultMix(text).map(({ typeName, argument, weight }): WeightedFault<TcpFault> => {
      if (typeName === 'down') {
        if (argument !== undefined) throw new UsageError(`fault 'down:${argument}': down takes no argument`);
        return { fault: DOWN, weight };
      }
      const toxic = toxicFromArgument(typeName, argument, stream);
      if (toxic) return { fault: { name: toxic.name, toxic }, weight };
      if (FAULT_TYPES.has(typeName)) {
        throw new UsageError(`fault '${typeName}' needs an HTTP upstream; a tcp:// upstream takes ${TCP_FAULT_NAMES.join(', ')}`);
      }
      const near = closestName(typeName, [...TCP_FAULT_NAMES]);
      throw new UsageError(
        `unknown TCP fault '${typeName}'${near ? `: did you mean '${near}'?` : ''} (known: ${TCP_FAULT_NAMES.join(', ')})`,
      );
    });
    checkWholeWindowAlone(mix);
    return mix;
  };
}
