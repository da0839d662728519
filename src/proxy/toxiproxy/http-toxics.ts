import { UsageError } from '../../errors.js';
import { checkAttributeValue, checkToxic, refuseUnknownAttributes, TOXIC_TYPES, toxicFields } from '../../faults/toxics/registry.js';
import type { ToxicSpec } from '../../faults/toxics/toxic.js';
import { closestName } from '../../util/suggest.js';
import type { FaultSettings } from '../config.js';

/** One attribute of an HTTP toxic; no default means optional (http_truncate's bytes: half the body). */
interface HttpToxicAttribute {
  name: string;
  unit: string;
  default?: number;
  min: number;
  max?: number;
}

/**
 * resil's HTTP faults offered as Toxiproxy toxics on a proxy whose upstream is http:// or https://.
 * Each is one entry of the inner chaos proxy's fault mix ('status:503', 'latency:150ms~250ms'...).
 */
interface HttpToxicType {
  type: string;
  attributes: readonly HttpToxicAttribute[];
  /** The resil fault (a --faults entry) for complete attributes. */
  fault(attributes: Readonly<Record<string, number>>): string;
}

export const HTTP_TOXIC_TYPES: ReadonlyMap<string, HttpToxicType> = new Map(
  (
    [
      {
        type: 'http_status',
        attributes: [
          { name: 'code', unit: 'status', default: 503, min: 400, max: 599 },
          { name: 'retry_after', unit: 's', default: 1, min: 0 },
        ],
        fault: (a) => `status:${a.code}`,
      },
      {
        type: 'http_latency',
        attributes: [
          { name: 'latency', unit: 'ms', default: 0, min: 0 },
          { name: 'jitter', unit: 'ms', default: 0, min: 0 },
        ],
        // Toxiproxy's latency ± jitter, uniform; never below 0.
        fault: (a) =>
          a.jitter === 0 ? `latency:${a.latency}ms` : `latency:${Math.max(0, a.latency! - a.jitter!)}ms~${a.latency! + a.jitter!}ms`,
      },
      { type: 'http_timeout', attributes: [], fault: () => 'timeout' },
      { type: 'http_reset', attributes: [], fault: () => 'reset' },
      { type: 'http_close', attributes: [], fault: () => 'close' },
      {
        type: 'http_truncate',
        attributes: [{ name: 'bytes', unit: 'bytes', min: 0 }],
        fault: (a) => (a.bytes === undefined ? 'truncate' : `truncate:${a.bytes}`),
      },
      {
        type: 'http_slow_body',
        attributes: [{ name: 'rate', unit: 'bytes/s', default: 1024, min: 1 }],
        fault: (a) => `slow-body:${a.rate}`,
      },
      { type: 'http_malformed', attributes: [], fault: () => 'malformed' },
    ] satisfies HttpToxicType[]
  ).map((t) => [t.type, t]),
);

/** True for an upstream that makes a proxy an HTTP one (http_* toxics act per request). */
export function isHttpUpstream(upstream: string): boolean {
  return /^https?:\/\//i.test(upstream);
}

export function isHttpToxic(toxic: ToxicSpec): boolean {
  return HTTP_TOXIC_TYPES.has(toxic.type);
}

/**
 * A toxic as it arrives in JSON for a proxy: Toxiproxy's TCP types (checkToxic) on any proxy, the
 * http_* types on an HTTP one only, downstream (they act on the answer). Throws UsageError.
 */
export function checkAnyToxic(value: unknown, http: boolean): ToxicSpec {
  const type = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).type : undefined;
  if (typeof type !== 'string' || !type.startsWith('http_')) {
    if (typeof type === 'string' && !TOXIC_TYPES.has(type) && http) {
      const near = closestName(type, [...TOXIC_TYPES.keys(), ...HTTP_TOXIC_TYPES.keys()]);
      throw new UsageError(`unknown toxic type '${type}'${near ? `: did you mean '${near}'?` : ''} (known: ${knownTypes()})`);
    }
    return checkToxic(value);
  }
  const httpType = HTTP_TOXIC_TYPES.get(type);
  if (!httpType) {
    const near = closestName(type, [...HTTP_TOXIC_TYPES.keys()]);
    throw new UsageError(`unknown toxic type '${type}'${near ? `: did you mean '${near}'?` : ''} (known: ${knownTypes()})`);
  }
  if (!http) {
    throw new UsageError(
      `${type} is an HTTP toxic: it needs a proxy whose upstream is an http:// or https:// URL (this proxy's upstream is raw TCP)`,
    );
  }
  const input = value as Record<string, unknown>;
  const stream = input.stream ?? 'downstream';
  if (stream !== 'downstream') throw new UsageError(`${type} acts on the answer: stream must be 'downstream', not '${String(stream)}'`);
  const { name, toxicity, given } = toxicFields(input, type);
  return { name, type, stream: 'downstream', toxicity, attributes: completeHttpAttributes(httpType, given) };
}

function knownTypes(): string {
  return [...TOXIC_TYPES.keys(), ...HTTP_TOXIC_TYPES.keys()].join(', ');
}

function completeHttpAttributes(type: HttpToxicType, given: Record<string, unknown>): Record<string, number> {
  refuseUnknownAttributes(type.type, type.attributes, given);
  const attributes: Record<string, number> = {};
  for (const attribute of type.attributes) {
    const value = given[attribute.name] ?? attribute.default;
    if (value !== undefined) attributes[attribute.name] = checkAttributeValue(type.type, attribute, value);
  }
  return attributes;
}

/**
 * The inner chaos proxy's fault settings for a proxy's http_* toxics, in list order. Toxiproxy draws
 * each toxic on its own; a request gets the first toxic drawn, so toxic i applies with chance
 * t_i · Π_{j<i}(1 − t_j) and some toxic with 1 − Π(1 − t_j): that is the failure rate, and those
 * chances (over the rate) are the mix's weights. Seeded: the same traffic draws the same faults.
 */
export function httpFaultSettings(toxics: readonly ToxicSpec[], seed: number): FaultSettings {
  const entries: string[] = [];
  let noneYet = 1;
  const weights: Array<[string, number]> = [];
  let retryAfter: number | undefined;
  for (const toxic of toxics) {
    const type = HTTP_TOXIC_TYPES.get(toxic.type);
    if (!type) continue;
    if (type.type === 'http_status') {
      if (retryAfter !== undefined && retryAfter !== toxic.attributes.retry_after) {
        throw new UsageError('the http_status toxics of one proxy must share one retry_after (the proxy sends one Retry-After)');
      }
      retryAfter = toxic.attributes.retry_after;
    }
    const chance = toxic.toxicity * noneYet;
    noneYet *= 1 - toxic.toxicity;
    if (chance > 0) weights.push([type.fault(toxic.attributes), chance]);
  }
  const failureRate = 1 - noneYet;
  for (const [fault, chance] of weights) {
    const weight = (chance / failureRate).toFixed(12);
    if (Number(weight) > 0) entries.push(`${fault}=${weight}`);
  }
  if (entries.length === 0) return { seed };
  return { failureRate, faults: entries.join(','), seed, ...(retryAfter === undefined ? {} : { retryAfter }) };
}
