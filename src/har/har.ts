/**
 * The subset of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) resil writes when the chaos
 * proxy records dependency traffic, and reads back to replay it offline.
 *
 * resil-specific data lives in the custom field `_resil` of each entry (HAR allows fields that start
 * with an underscore):
 *   `_resil.chunks: [{ atMs, bytes }]`  the response body as it arrived: each chunk's offset in ms from
 *                                       the response headers and its size in bytes (sizes add up to the
 *                                       body's length), so a replay keeps the recorded streaming pace.
 * Bodies that are not valid UTF-8 are stored base64 with `encoding: 'base64'` (on `response.content`, as
 * HAR defines, and on `request.postData`, an extension as WireMock writes it). In resil's own files the
 * response body is the bytes as the upstream sent them (after de-chunking, before any content decoding),
 * so the recorded Content-Encoding header still applies to it.
 */
import { readFileSync } from 'node:fs';
import { isSecretQueryName, REDACTED } from '../util/redact.js';

/** What the proxy hands the writer, one per call. */
export interface RecordedExchange {
  startedDateTime: Date;
  method: string;
  /** path + query as sent ('/v1/chat?stream=1') */
  path: string;
  requestHeaders: Array<[string, string]>;
  /** may be empty */
  requestBody: Buffer;
  status: number;
  statusText: string;
  responseHeaders: Array<[string, string]>;
  responseBody: Buffer;
  /** ms from request sent to first response byte (headers) */
  waitMs: number;
  /** ms from request sent to the end of the response */
  totalMs: number;
  /** body chunks as they arrived: offset ms from the response headers, and size in bytes (sizes add up to responseBody.length) */
  chunks: Array<{ atMs: number; bytes: number }>;
}

/** What the replayer needs, one per recorded exchange. */
export interface ReplayEntry {
  method: string;
  path: string;
  /** '' or 'a=1&b=2' as recorded */
  query: string;
  requestBody: Buffer;
  status: number;
  statusText: string;
  responseHeaders: Array<[string, string]>;
  responseBody: Buffer;
  waitMs: number;
  /** [] when unknown (a HAR from another tool): the whole body at waitMs */
  chunks: Array<{ atMs: number; bytes: number }>;
}

/** Placeholder origin: HAR requires absolute URLs, resil records paths only. */
export const HAR_ORIGIN = 'http://upstream';

// ---- HAR 1.2 document shapes (the fields resil writes) ----

export interface HarNameValue {
  name: string;
  value: string;
}
export interface HarPostData {
  mimeType: string;
  text: string;
  /** extension (as WireMock): 'base64' when text is the base64 of a binary body */
  encoding?: 'base64';
}
export interface HarContent {
  size: number;
  mimeType: string;
  text: string;
  encoding?: 'base64';
}
export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    queryString: HarNameValue[];
    postData?: HarPostData;
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    content: HarContent;
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  _resil: { chunks: Array<{ atMs: number; bytes: number }> };
}
export interface HarLog {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    entries: HarEntry[];
  };
}

/** resil's version from package.json ('0.0.0' if it cannot be read). */
export const RESIL_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

// ---- helpers shared by writer, reader and matcher ----

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A body as HAR text: UTF-8 text when it is valid UTF-8 (round-trips byte for byte), else base64. */
export function encodeBody(body: Buffer): { text: string; encoding?: 'base64' } {
  try {
    return { text: utf8.decode(body) };
  } catch {
    return { text: body.toString('base64'), encoding: 'base64' };
  }
}

/** Splits '/a/b?x=1#f' into path and query (without '?'; fragment dropped). */
export function splitPathQuery(pathWithQuery: string): { path: string; query: string } {
  const hash = pathWithQuery.indexOf('#');
  const text = hash >= 0 ? pathWithQuery.slice(0, hash) : pathWithQuery;
  const q = text.indexOf('?');
  return q >= 0 ? { path: text.slice(0, q), query: text.slice(q + 1) } : { path: text, query: '' };
}

/** Percent-decoding that never throws ('+' is a space, as in forms). */
export function decodeQueryComponent(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** A query string's parameters, raw (not decoded), in order. Empty pieces ('a=1&&b') are skipped. */
export function rawQueryPairs(query: string): Array<[string, string | undefined]> {
  if (query === '') return [];
  return query
    .split('&')
    .filter((piece) => piece !== '')
    .map((piece) => {
      const eq = piece.indexOf('=');
      return eq >= 0 ? [piece.slice(0, eq), piece.slice(eq + 1)] : [piece, undefined];
    });
}

/** A secret query parameter name, as written or percent-decoded. */
export function isSecretQueryParam(rawName: string): boolean {
  return isSecretQueryName(rawName) || isSecretQueryName(decodeQueryComponent(rawName).trim());
}

/** The query with secret parameter values replaced by '[redacted]' (everything else byte for byte). */
export function redactQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .map((piece) => {
      const eq = piece.indexOf('=');
      if (eq < 0) return piece;
      return isSecretQueryParam(piece.slice(0, eq)) ? `${piece.slice(0, eq)}=${REDACTED}` : piece;
    })
    .join('&');
}

/** A header list's value for a name (first one, case-insensitive), or undefined. */
export function headerValue(headers: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}
