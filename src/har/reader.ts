/**
 * Reads a HAR 1.2 file for replay: resil's own recordings (src/har/writer.ts) and HARs saved by other
 * tools (browsers' devtools, proxies). Bad input is a UsageError naming the file, the entry and the field.
 *
 * HARs from other tools (no `_resil` field on the entry):
 *   - chunks are unknown: [] (the replayer sends the whole body at waitMs);
 *   - content.text is the decoded body, so Content-Encoding, Content-Length and Transfer-Encoding are
 *     dropped from the response headers (they describe the bytes on the wire, not the stored body);
 *     HTTP/2 pseudo-headers (':status') are dropped too;
 *   - entries without a response (status 0: blocked or aborted in the browser) are skipped;
 *   - timings.wait of -1 (not applicable) is 0.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { splitPathQuery, type ReplayEntry } from './har.js';

const MAX_PROBLEMS = 10;
const FOREIGN_DROPPED_HEADERS = new Set(['content-encoding', 'content-length', 'transfer-encoding']);

type Json = unknown;
type JsonObject = Record<string, Json>;

class Invalid extends Error {}

export function readHar(path: string): ReplayEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read HAR file ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let doc: Json;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new UsageError(`HAR file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const fail = (message: string): never => {
    throw new UsageError(`HAR file ${path}: ${message}`);
  };
  if (!isObject(doc)) return fail('expected a JSON object with a "log" field');
  const log = doc.log;
  if (!isObject(log)) return fail('"log" is missing or not an object');
  if (!Array.isArray(log.entries)) return fail('"log.entries" is missing or not an array');

  const entries: ReplayEntry[] = [];
  const problems: string[] = [];
  log.entries.forEach((raw, index) => {
    if (problems.length >= MAX_PROBLEMS) return;
    try {
      const entry = readEntry(raw, `log.entries[${index}]`);
      if (entry) entries.push(entry);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      problems.push(error.message);
    }
  });
  if (problems.length > 0) {
    const more = problems.length >= MAX_PROBLEMS ? ' (further entries not checked)' : '';
    fail(`${problems.join('; ')}${more}`);
  }
  return entries;
}

function readEntry(raw: Json, where: string): ReplayEntry | null {
  const entry = object(raw, where);
  const resil = entry._resil;
  const foreign = resil === undefined;

  const request = object(entry.request, `${where}.request`);
  const method = string(request.method, `${where}.request.method`);
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method))
    throw new Invalid(`${where}.request.method: ${JSON.stringify(method)} is not an HTTP method`);
  const url = string(request.url, `${where}.request.url`);
  const target = requestTarget(url, `${where}.request.url`);
  let { path, query } = splitPathQuery(target);
  if (path === '') path = '/';
  if (!target.includes('?') && request.queryString !== undefined)
    query = queryFromList(request.queryString, `${where}.request.queryString`);
  const requestBody = request.postData === undefined ? Buffer.alloc(0) : postDataBody(request.postData, `${where}.request.postData`);

  const response = object(entry.response, `${where}.response`);
  const status = number(response.status, `${where}.response.status`);
  if (foreign && status === 0) return null;
  if (!Number.isInteger(status) || status < 100 || status > 999)
    throw new Invalid(`${where}.response.status: ${status} is not an HTTP status`);
  const statusText = response.statusText === undefined ? '' : string(response.statusText, `${where}.response.statusText`);
  let responseHeaders = nameValues(response.headers, `${where}.response.headers`);
  if (foreign)
    responseHeaders = responseHeaders.filter(([name]) => !name.startsWith(':') && !FOREIGN_DROPPED_HEADERS.has(name.toLowerCase()));
  const responseBody = contentBody(response.content, `${where}.response.content`);

  let waitMs = 0;
  if (entry.timings !== undefined) {
    const timings = object(entry.timings, `${where}.timings`);
    if (timings.wait !== undefined) {
      const wait = number(timings.wait, `${where}.timings.wait`);
      if (wait < -1) throw new Invalid(`${where}.timings.wait: ${wait} is negative`);
      waitMs = Math.max(0, wait);
    }
  }

  const chunks: ReplayEntry['chunks'] = [];
  if (!foreign) {
    const resilObject = object(resil, `${where}._resil`);
    if (resilObject.chunks !== undefined) {
      const list = array(resilObject.chunks, `${where}._resil.chunks`);
      let total = 0;
      list.forEach((rawChunk, i) => {
        const at = `${where}._resil.chunks[${i}]`;
        const chunk = object(rawChunk, at);
        const atMs = number(chunk.atMs, `${at}.atMs`);
        const bytes = number(chunk.bytes, `${at}.bytes`);
        if (atMs < 0) throw new Invalid(`${at}.atMs: ${atMs} is negative`);
        if (!Number.isInteger(bytes) || bytes < 0) throw new Invalid(`${at}.bytes: ${bytes} is not a byte count`);
        total += bytes;
        chunks.push({ atMs, bytes });
      });
      if (list.length > 0 && total !== responseBody.length) {
        throw new Invalid(`${where}._resil.chunks: sizes add up to ${total} bytes but the response body has ${responseBody.length}`);
      }
    }
  }
  return { method: method.toUpperCase(), path, query, requestBody, status, statusText, responseHeaders, responseBody, waitMs, chunks };
}

/** The path + query of an absolute URL ('http://h/a?b' → '/a?b'), or a URL that already is a path. */
function requestTarget(url: string, where: string): string {
  if (url.startsWith('/')) return url;
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  if (!origin) throw new Invalid(`${where}: ${JSON.stringify(url.length > 80 ? `${url.slice(0, 80)}…` : url)} is not an absolute URL`);
  const rest = url.slice(origin[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function queryFromList(raw: Json, where: string): string {
  return nameValues(raw, where)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
}

function postDataBody(raw: Json, where: string): Buffer {
  const postData = object(raw, where);
  if (postData.text !== undefined) return decodeText(postData.text, postData.encoding, where);
  if (postData.params !== undefined) {
    // A form the browser saved as params only.
    const params = array(postData.params, `${where}.params`).map((p, i) => {
      const param = object(p, `${where}.params[${i}]`);
      const name = string(param.name, `${where}.params[${i}].name`);
      const value = param.value === undefined ? '' : string(param.value, `${where}.params[${i}].value`);
      return `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
    });
    return Buffer.from(params.join('&'), 'utf8');
  }
  return Buffer.alloc(0);
}

function contentBody(raw: Json, where: string): Buffer {
  if (raw === undefined) return Buffer.alloc(0);
  const content = object(raw, where);
  if (content.text === undefined || content.text === null) return Buffer.alloc(0);
  return decodeText(content.text, content.encoding, where);
}

function decodeText(text: Json, encoding: Json, where: string): Buffer {
  const value = string(text, `${where}.text`);
  if (encoding === undefined || encoding === null || encoding === '') return Buffer.from(value, 'utf8');
  if (encoding !== 'base64') throw new Invalid(`${where}.encoding: ${JSON.stringify(encoding)} is not supported (only "base64")`);
  const compact = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1)
    throw new Invalid(`${where}.text: not valid base64 (encoding is "base64")`);
  return Buffer.from(compact, 'base64');
}

function nameValues(raw: Json, where: string): Array<[string, string]> {
  if (raw === undefined) return [];
  return array(raw, where).map((item, i) => {
    const pair = object(item, `${where}[${i}]`);
    return [string(pair.name, `${where}[${i}].name`), pair.value === undefined ? '' : string(pair.value, `${where}[${i}].value`)];
  });
}

// ---- field checks: each throws Invalid naming the field ----

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function describeValue(value: Json): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const text = JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}
function object(value: Json, where: string): JsonObject {
  if (!isObject(value)) throw new Invalid(`${where}: expected an object, got ${describeValue(value)}`);
  return value;
}
function array(value: Json, where: string): Json[] {
  if (!Array.isArray(value)) throw new Invalid(`${where}: expected an array, got ${describeValue(value)}`);
  return value;
}
function string(value: Json, where: string): string {
  if (typeof value !== 'string') throw new Invalid(`${where}: expected a string, got ${describeValue(value)}`);
  return value;
}
function number(value: Json, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Invalid(`${where}: expected a number, got ${describeValue(value)}`);
  return value;
}
