import { hash } from 'node:crypto';
import type { Correlation, KeySource } from './call.js';

/**
 * Correlation keys: which dependency calls are attempts of one logical request. Runs on every
 * proxied call, so headers are read straight from Node's rawHeaders ([name, value, name, value...]):
 * a name is compared by length first and lower-cased only when its length matches a wanted one.
 */

export interface HeaderKey {
  key: string;
  source: KeySource;
}

const IDEMPOTENCY_KEY = 'idempotency-key';
const REQUEST_ID = 'x-request-id';
const TRACEPARENT = 'traceparent';

/** W3C trace context, version 00: `00-<trace id>-<parent id>-<flags>`. */
const TRACEPARENT_FORMAT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/i;
const ALL_ZEROS = /^0+$/;

/** What a call's headers say, read in one pass. */
export interface CallHeaders {
  /** The key they give, or undefined (then the body decides: see bodyKey). */
  keyed: HeaderKey | undefined;
  /** A non-empty Idempotency-Key (a POST or PATCH retried without one is unsafe). */
  idempotencyKey: boolean;
  /** Its X-Request-Id or traceparent trace id starts with `runId`: it traces back to one request resil sent. */
  runRequest: boolean;
}

/**
 * The call's key and the facts beside it, in one pass over rawHeaders. auto: Idempotency-Key, else
 * X-Request-Id, else a valid traceparent's trace id (lower case); header: that header's value; body:
 * never a key. `runId`: this run's request-id prefix (request-ids.ts), when resil sent the requests.
 */
export function callHeaders(rawHeaders: readonly string[], correlation: Correlation, runId?: string): CallHeaders {
  const named = correlation.mode === 'header' ? correlation.header.toLowerCase() : undefined;
  let idempotency: string | undefined;
  let requestId: string | undefined;
  let traceparent: string | undefined;
  let namedValue: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (value === '') continue;
    if (named !== undefined && namedValue === undefined && name.length === named.length && name.toLowerCase() === named) namedValue = value;
    switch (name.length) {
      case 15:
        if (idempotency === undefined && name.toLowerCase() === IDEMPOTENCY_KEY) idempotency = value;
        break;
      case 12:
        if (requestId === undefined && name.toLowerCase() === REQUEST_ID) requestId = value;
        break;
      case 11:
        if (traceparent === undefined && name.toLowerCase() === TRACEPARENT) traceparent = value;
        break;
    }
  }
  const byRequestId = runId !== undefined && requestId?.startsWith(runId) === true;
  // The traceparent's regex runs only when its trace id is wanted: as the key, or to trace the call.
  const wantsTrace =
    (correlation.mode === 'auto' && idempotency === undefined && requestId === undefined) || (runId !== undefined && !byRequestId);
  const traceId = traceparent !== undefined && wantsTrace ? traceIdOf(traceparent) : undefined;
  let keyed: HeaderKey | undefined;
  if (correlation.mode === 'header') keyed = namedValue === undefined ? undefined : { key: namedValue, source: 'header' };
  else if (correlation.mode === 'auto') {
    if (idempotency !== undefined) keyed = { key: idempotency, source: 'idempotency-key' };
    else if (requestId !== undefined) keyed = { key: requestId, source: 'x-request-id' };
    else if (traceId !== undefined) keyed = { key: traceId, source: 'traceparent' };
  }
  const runRequest = byRequestId || (runId !== undefined && traceId?.startsWith(runId) === true);
  return { keyed, idempotencyKey: idempotency !== undefined, runRequest };
}

/** The trace id (32 hex, lower case) of a valid W3C traceparent, or undefined (all-zero ids are invalid). */
export function traceIdOf(traceparent: string): string | undefined {
  const match = TRACEPARENT_FORMAT.exec(traceparent);
  if (!match || ALL_ZEROS.test(match[1]!) || ALL_ZEROS.test(match[2]!)) return undefined;
  return match[1]!.toLowerCase();
}

/**
 * method + path (query kept) + a hash of the body: JSON (a body that starts with `{` or `[` and
 * parses) is normalised first, keys sorted and whitespace dropped, so a retry that re-serialises its
 * body the other way round still matches; any other body is hashed as bytes. SHA-1 (one-shot
 * crypto.hash) as a fast native hash, not for security: ~0.4 µs for bytes, ~3 µs with JSON normalised.
 */
export function bodyKey(method: string, path: string, body: Buffer | undefined): string {
  if (body === undefined || body.length === 0) return `${method} ${path}`;
  const json = looksLikeJson(body) ? normalisedJson(body) : undefined;
  return `${method} ${path} ${hash('sha1', json ?? body, 'base64url')}`;
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

function looksLikeJson(body: Buffer): boolean {
  for (const byte of body) {
    if (byte === SPACE || byte === TAB || byte === LF || byte === CR) continue;
    return byte === OPEN_BRACE || byte === OPEN_BRACKET;
  }
  return false;
}

/** The body as stableJson writes it, or undefined when it is not JSON after all (or nests too deep to walk). */
function normalisedJson(body: Buffer): string | undefined {
  try {
    return stableJson(JSON.parse(body.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** A string as JSON writes it; most need no escaping, and a check is cheaper than JSON.stringify. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
function quoted(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** JSON text with every object's keys in sorted order and no whitespace (loops, not map/join: this is per call). */
function stableJson(value: unknown): string {
  if (typeof value !== 'object') return typeof value === 'string' ? quoted(value) : String(value);
  if (value === null) return 'null';
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) out += `${i === 0 ? '' : ','}${stableJson(value[i])}`;
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  out = '{';
  for (let i = 0; i < keys.length; i++) out += `${i === 0 ? '' : ','}${quoted(keys[i]!)}:${stableJson(record[keys[i]!])}`;
  return `${out}}`;
}
