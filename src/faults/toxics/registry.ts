import { UsageError } from '../../errors.js';
import { closestName } from '../../util/suggest.js';
import { bandwidthToxic } from './bandwidth.js';
import { latencyToxic } from './latency.js';
import { limitDataToxic } from './limit-data.js';
import { resetPeerToxic } from './reset-peer.js';
import { slicerToxic } from './slicer.js';
import { slowCloseToxic } from './slow-close.js';
import { timeoutToxic } from './timeout.js';
import type { StreamDirection, ToxicSpec, ToxicType } from './toxic.js';

/** Every TCP toxic type by Toxiproxy's name. `down` is not one: it closes the listener (Toxiproxy's `enabled: false`). */
export const TOXIC_TYPES: ReadonlyMap<string, ToxicType> = new Map(
  [latencyToxic, bandwidthToxic, slowCloseToxic, timeoutToxic, resetPeerToxic, slicerToxic, limitDataToxic].map((t) => [t.type, t]),
);

export const STREAMS: readonly StreamDirection[] = ['upstream', 'downstream'];

/** Largest attribute value (a week in ms; 2^31-1 would be Node's longest timer). */
const MAX_ATTRIBUTE = 7 * 24 * 3600 * 1000;

/** A toxic's attributes with the type's defaults under what was given; unknown or bad ones throw UsageError. */
export function completeAttributes(type: ToxicType, given: Record<string, unknown>): Record<string, number> {
  refuseUnknownAttributes(type.type, type.attributes, given);
  const attributes: Record<string, number> = {};
  for (const attribute of type.attributes) {
    const value = given[attribute.name] ?? attribute.default;
    attributes[attribute.name] = checkAttributeValue(type.type, { ...attribute, min: attribute.min ?? 0, max: MAX_ATTRIBUTE }, value);
  }
  if (type.type === 'slicer' && attributes.average_size! > 0 && attributes.size_variation! >= attributes.average_size!) {
    throw new UsageError('slicer attribute size_variation must be below average_size');
  }
  return attributes;
}

/** Attribute names `given` has that the type does not: a UsageError with a did-you-mean (TCP and http_* toxics). */
export function refuseUnknownAttributes(typeName: string, known: ReadonlyArray<{ name: string }>, given: Record<string, unknown>): void {
  const names = known.map((a) => a.name);
  for (const key of Object.keys(given)) {
    if (names.includes(key)) continue;
    const near = closestName(key, names);
    throw new UsageError(
      `${typeName} has no attribute '${key}'${near ? `: did you mean '${near}'?` : ''} (attributes: ${names.join(', ') || 'none'})`,
    );
  }
}

/**
 * An attribute's value: a whole number from `min` (to `max` when there is one), as Toxiproxy's int64
 * fields; a slicer of 0.5 bytes or a rate of 0.005 KB/s would never finish. Else a UsageError.
 */
export function checkAttributeValue(
  typeName: string,
  attribute: { name: string; unit: string; min: number; max?: number },
  value: unknown,
): number {
  const { name, unit, min, max } = attribute;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= (max ?? Number.POSITIVE_INFINITY)) return value;
  const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  throw new UsageError(`${typeName} attribute '${name}' must be a whole number ${range} (${unit})`);
}

/**
 * The fields every toxic shares, checked as they arrive in JSON: its name (default TYPE_STREAM), its
 * stream (default downstream), its toxicity (default 1), and its attributes object as given.
 */
export function toxicFields(
  input: Record<string, unknown>,
  typeName: string,
): { name: string; stream: StreamDirection; toxicity: number; given: Record<string, unknown> } {
  const stream = input.stream ?? 'downstream';
  if (!STREAMS.includes(stream as StreamDirection))
    throw new UsageError(`stream must be 'upstream' or 'downstream', not '${String(stream)}'`);
  const toxicity = input.toxicity ?? 1;
  if (typeof toxicity !== 'number' || !(toxicity >= 0 && toxicity <= 1)) throw new UsageError('toxicity must be a number from 0 to 1');
  const attributes = input.attributes ?? {};
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes))
    throw new UsageError('attributes must be a JSON object');
  const name = input.name ?? `${typeName}_${stream}`;
  if (typeof name !== 'string' || name === '') throw new UsageError('a toxic name must be a non-empty string');
  return { name, stream: stream as StreamDirection, toxicity, given: attributes as Record<string, unknown> };
}

/**
 * A toxic as it arrives in JSON (Toxiproxy's API or config file): type, stream (default downstream),
 * toxicity (default 1), attributes, name (default TYPE_STREAM). Checked whole; throws UsageError.
 */
export function checkToxic(value: unknown): ToxicSpec {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('a toxic must be a JSON object');
  const input = value as Record<string, unknown>;
  const typeName = input.type;
  if (typeof typeName !== 'string') throw new UsageError(`a toxic needs a type (known: ${[...TOXIC_TYPES.keys()].join(', ')})`);
  const type = TOXIC_TYPES.get(typeName);
  if (!type) {
    const near = closestName(typeName, [...TOXIC_TYPES.keys()]);
    throw new UsageError(
      `unknown toxic type '${typeName}'${near ? `: did you mean '${near}'?` : ''} (known: ${[...TOXIC_TYPES.keys()].join(', ')})`,
    );
  }
  const { name, stream, toxicity, given } = toxicFields(input, typeName);
  return { name, type: typeName, stream, toxicity, attributes: completeAttributes(type, given) };
}

/**
 * One entry of `--faults` for a TCP upstream in its short form ('latency:200ms', 'limit_data:1024'),
 * as a toxic on `stream` with toxicity 1 (the failure rate decides per connection). Undefined for a
 * name that is no toxic type (the caller may know it otherwise: `down`).
 */
export function toxicFromArgument(typeName: string, argument: string | undefined, stream: StreamDirection): ToxicSpec | undefined {
  const type = TOXIC_TYPES.get(typeName);
  if (!type) return undefined;
  // Durations in the short form may have fractions of a ms ('1.5ms'): whole ms, as the attributes are.
  const given = Object.fromEntries(Object.entries(type.fromArgument(argument)).map(([name, value]) => [name, Math.round(value)]));
  return {
    name: argument === undefined ? typeName : `${typeName}:${argument}`,
    type: typeName,
    stream,
    toxicity: 1,
    attributes: completeAttributes(type, given),
  };
}
