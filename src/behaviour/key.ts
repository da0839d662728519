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

/**
 * The key the call's headers give, or undefined (then the body decides: see bodyKey).
 * auto: Idempotency-Key, else X-Request-Id, else a valid traceparent's trace id (lower case);
 * header: that header's value; body: always undefined.
 */
export function headerKey(rawHeaders: readonly string[], correlation: Correlation): HeaderKey | undefined {
  if (correlation.mode === 'header') {
    const value = headerValue(rawHeaders, correlation.header.toLowerCase());
    return value === undefined ? undefined : { key: value, source: 'header' };
  }
  if (correlation.mode !== 'auto') return undefined;
  let requestId: string | undefined;
  let traceparent: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (value === '') continue;
    switch (name.length) {
      case 15:
        if (name.toLowerCase() === IDEMPOTENCY_KEY) return { key: value, source: 'idempotency-key' };
        break;
      case 12:
        if (requestId === undefined && name.toLowerCase() === REQUEST_ID) requestId = value;
        break;
      case 11:
        if (traceparent === undefined && name.toLowerCase() === TRACEPARENT) traceparent = value;
        break;
    }
  }
  if (requestId !== undefined) return { key: requestId, source: 'x-request-id' };
  const traceId = traceparent === undefined ? undefined : traceIdOf(traceparent);
  return traceId === undefined ? undefined : { key: traceId, source: 'traceparent' };
}

/**
 * True when the call's X-Request-Id or traceparent trace id is one of this run's request ids (they
 * start with `runId`): for a call keyed otherwise (its own Idempotency-Key, a header, the body), it
 * still traces back to exactly one request resil sent.
 */
export function carriesRunId(rawHeaders: readonly string[], runId: string): boolean {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 12 && name.toLowerCase() === REQUEST_ID && rawHeaders[i + 1]!.startsWith(runId)) return true;
    if (name.length === 11 && name.toLowerCase() === TRACEPARENT && traceIdOf(rawHeaders[i + 1]!)?.startsWith(runId)) return true;
  }
  return false;
}

/** The trace id (32 hex, lower case) of a valid W3C traceparent, or undefined (all-zero ids are invalid). */
export function traceIdOf(traceparent: string): string | undefined {
  const match = TRACEPARENT_FORMAT.exec(traceparent);
  if (!match || ALL_ZEROS.test(match[1]!) || ALL_ZEROS.test(match[2]!)) return undefined;
  return match[1]!.toLowerCase();
}

/** The call carried a non-empty Idempotency-Key header. */
export function isIdempotencyKeyed(rawHeaders: readonly string[]): boolean {
  return headerValue(rawHeaders, IDEMPOTENCY_KEY) !== undefined;
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

/** A header's first non-empty value; `lowerName` must be lower case. */
function headerValue(rawHeaders: readonly string[], lowerName: string): string | undefined {
  const length = lowerName.length;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === length && rawHeaders[i + 1] !== '' && name.toLowerCase() === lowerName) return rawHeaders[i + 1];
  }
  return undefined;
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
