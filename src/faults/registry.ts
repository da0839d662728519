import { UsageError } from '../errors.js';
import { closestName } from '../util/suggest.js';
import { closeFault } from './close.js';
import { downFault } from './down.js';
import type { Fault, FaultType } from './fault.js';
import { latencyFault } from './latency.js';
import { malformedFault } from './malformed.js';
import { resetFault } from './reset.js';
import { slowBodyFault } from './slow-body.js';
import { stallFault } from './stall.js';
import { statusFault } from './status.js';
import { streamErrorFault } from './stream-error.js';
import { timeoutFault } from './timeout.js';
import { truncateFault } from './truncate.js';

/** Every fault type by name. */
export const FAULT_TYPES: ReadonlyMap<string, FaultType> = new Map(
  [
    statusFault,
    latencyFault,
    timeoutFault,
    resetFault,
    closeFault,
    truncateFault,
    streamErrorFault,
    stallFault,
    slowBodyFault,
    malformedFault,
    downFault,
  ].map((t) => [t.type, t]),
);

/** A fault as a mix holds it: named, and maybe acting on the listener for whole windows (`down`). */
export interface MixFault {
  readonly name: string;
  readonly wholeWindow?: boolean;
}

/** One entry of a fault mix with its weight. */
export interface WeightedFault<F extends MixFault = Fault> {
  fault: F;
  weight: number;
}

/** One 'TYPE[:ARGUMENT][=WEIGHT]' entry of a mix, split but not yet understood. */
export interface MixEntry {
  typeName: string;
  argument: string | undefined;
  weight: number;
}

/**
 * Splits 'status:503=5,status:429=2,timeout=2,reset=1' into entries (a type without =W weighs 1),
 * checking the weights. The caller turns each entry into its transport's fault.
 */
export function splitFaultMix(text: string): MixEntry[] {
  const entries: MixEntry[] = [];
  const items = text.split(',').map((item) => item.trim());
  if (items.every((item) => item === '')) throw new UsageError("empty mix (e.g. 'status:503=5,timeout=1')");
  for (const item of items) {
    if (item === '') throw new UsageError(`'${text}': an empty entry between commas`);
    const eq = item.lastIndexOf('=');
    const spec = eq === -1 ? item : item.slice(0, eq);
    const weightText = eq === -1 ? '1' : item.slice(eq + 1);
    const weight = Number(weightText);
    if (!/^\d+(?:\.\d+)?$/.test(weightText) || !(weight > 0) || !Number.isFinite(weight)) {
      throw new UsageError(`weight '${weightText}' of '${spec}' must be a number above 0`);
    }
    const colon = spec.indexOf(':');
    entries.push({
      typeName: colon === -1 ? spec : spec.slice(0, colon),
      argument: colon === -1 ? undefined : spec.slice(colon + 1),
      weight,
    });
  }
  return entries;
}

/** `down` closes the listener for whole windows: it stands alone in a mix. */
export function checkWholeWindowAlone(mix: readonly WeightedFault<MixFault>[]): void {
  if (mix.some((entry) => entry.fault.wholeWindow) && mix.length > 1) {
    throw new UsageError("'down' closes the listener for a whole window and cannot be mixed with per-call faults");
  }
}

/**
 * Parses an HTTP proxy's mix: 'status:503=5,status:429=2,timeout=2,reset=1'. Messages name no flag:
 * parseFaults (proxy/config.ts) does.
 */
export function parseFaultMix(text: string): WeightedFault[] {
  const mix = splitFaultMix(text).map(({ typeName, argument, weight }) => {
    const type = FAULT_TYPES.get(typeName);
    if (!type) {
      throw new UsageError(
        `unknown fault type '${typeName}'${suggestion(typeName, argument)} (known: ${[...FAULT_TYPES.keys()].join(', ')})`,
      );
    }
    return { fault: type.create(argument), weight };
  });
  checkWholeWindowAlone(mix);
  return mix;
}

/** ': did you mean 'status:503'?' for '503', ': did you mean 'timeout'?' for 'timout', else ''. */
function suggestion(typeName: string, argument: string | undefined): string {
  if (/^[1-5]\d\d$/.test(typeName) && argument === undefined) return `: did you mean 'status:${typeName}'?`;
  const near = closestName(typeName, [...FAULT_TYPES.keys()]);
  return near === undefined ? '' : `: did you mean '${near}${argument === undefined ? '' : `:${argument}`}'?`;
}

/** Picks a fault from the mix with probability proportional to its weight; `draw` is in [0, 1). */
export function pickFault<F extends MixFault>(mix: readonly WeightedFault<F>[], totalWeight: number, draw: number): F {
  let target = draw * totalWeight;
  for (const entry of mix) {
    target -= entry.weight;
    if (target < 0) return entry.fault;
  }
  return mix[mix.length - 1]!.fault;
}
