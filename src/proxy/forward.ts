import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
import type { UpstreamAnswer } from '../faults/fault.js';
import { markCut } from './observe.js';

/** Hop-by-hop headers (RFC 9110 section 7.6.1) never forwarded by a proxy. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
]);

/**
 * Request headers to send upstream: the client's, less hop-by-hop headers (and those the Connection
 * header names), Host (undici sets it) and Expect (Node's server has already answered 100-continue).
 */
export function upstreamRequestHeaders(raw: readonly string[]): string[] {
  const listed = connectionListed(raw, (value) => value);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'expect' || HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** Response headers to send back: the upstream's (raw Buffers from undici), less hop-by-hop headers. */
export function downstreamResponseHeaders(raw: readonly Buffer[]): string[] {
  // One pass converts and drops the fixed hop-by-hop set; a Connection header (rare in responses
  // from keep-alive upstreams) costs a second pass over the strings.
  const out: string[] = [];
  let connection = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') connection = true;
      else continue;
    }
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  if (!connection) return out;
  const listed = connectionListed(out, (value) => value);
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) {
    const lower = out[i]!.toLowerCase();
    if (lower !== 'connection' && !listed?.has(lower)) kept.push(out[i]!, out[i + 1]!);
  }
  return kept;
}

/** Header names listed in Connection (RFC 9110 section 7.6.1), lower case; undefined when there are none. */
function connectionListed<T>(raw: readonly T[], text: (value: T) => string): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (text(raw[i]!).toLowerCase() !== 'connection') continue;
    for (const token of text(raw[i + 1]!).split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && name !== 'close' && name !== 'keep-alive') (listed ??= new Set()).add(name);
    }
  }
  return listed;
}

/**
 * Reads a whole request body (replay matching, the admin API). Past `maxBytes` the request is
 * destroyed and the promise rejects.
 */
export function readRequestBody(request: IncomingMessage, maxBytes = Number.POSITIVE_INFINITY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new Error('request body too large'));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** True when the request carries a body. Reads rawHeaders: `request.headers` would build an object per call. */
export function hasRequestBody(request: IncomingMessage): boolean {
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') return true;
    if (name.length === 14 && name.toLowerCase() === 'content-length' && raw[i + 1] !== '0') return true;
  }
  return false;
}

/** undici dispatch options that forward this request to the upstream under `basePath`. */
export function dispatchOptions(request: IncomingMessage, basePath: string): Dispatcher.DispatchOptions {
  return {
    path: basePath === '' ? request.url! : basePath + request.url!,
    method: request.method as Dispatcher.HttpMethod,
    headers: upstreamRequestHeaders(request.rawHeaders),
    body: hasRequestBody(request) ? request : null,
  };
}

/** Sees an answer as it is forwarded (recording); called in the order the answer arrives. */
export interface ForwardTap {
  headers(status: number, statusText: string, headers: readonly string[]): void;
  data(chunk: Buffer): void;
  complete(): void;
}

/**
 * Streams one upstream answer to the client as it arrives (undici dispatch handler): status and
 * headers, then body chunks with backpressure, then the end. An upstream failure before the headers
 * is a 502; after them the client connection is cut, as a real proxy would.
 */
export class StreamingForward {
  private abort: ((reason: Error) => void) | null = null;
  finished = false;

  constructor(
    readonly response: ServerResponse,
    private readonly onUpstreamError: () => void,
    private readonly tap?: ForwardTap,
  ) {
    response.on('close', this.onClientClose); // the response is used once: no need for once()'s wrapper
  }

  onConnect(abort: (reason: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText?: string): boolean {
    // Cork until the end of this tick: when the whole answer arrived in one read (the common case),
    // status line, headers and body leave in one write instead of two or three.
    this.response.cork();
    process.nextTick(uncorkResponse, this);
    const headers = downstreamResponseHeaders(rawHeaders);
    this.tap?.headers(statusCode, statusText ?? '', headers);
    this.response.writeHead(statusCode, headers);
    this.resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bodyStarted = true;
    this.tap?.data(chunk);
    const flowing = this.response.write(chunk);
    if (!flowing) this.response.once('drain', this.resume);
    return flowing;
  }

  onComplete(): void {
    this.finished = true;
    this.tap?.complete();
    this.response.end();
  }

  onError(): void {
    this.finished = true;
    if (this.clientGone) return; // we aborted the upstream call because the client left: not an upstream error
    this.onUpstreamError();
    if (this.response.headersSent) {
      markCut(this.response);
      this.response.destroy();
      return;
    }
    const body = '{"error":"resil proxy: upstream unreachable or failed"}';
    this.response.writeHead(502, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
  }

  onResponseStarted(): void {}
  onUpgrade(): void {}
  onBodySent(): void {}

  private resume: () => void = () => {};

  /** True once a body byte went out: until then the headers wait for none (a stream's first event may come much later). */
  bodyStarted = false;

  private clientGone = false;

  private readonly onClientClose = (): void => {
    if (this.finished) return;
    this.clientGone = true;
    this.abort?.(new Error('client went away'));
  };
}

function uncorkResponse(forward: StreamingForward): void {
  forward.response.uncork();
  // No body in the same read (a stream whose first event is still to come): the headers leave now, as the upstream's did.
  if (!forward.bodyStarted && !forward.finished && !forward.response.destroyed) forward.response.flushHeaders();
}

/**
 * Fetches one upstream answer whole (for faults that reshape it); rejects on upstream failure. Each
 * body chunk keeps when it arrived (ms after the headers), as a recording does, so a live stream
 * keeps its shape when a fault sends it on; it is sent once it is all in (the faults count its events
 * first), so the client waits for the whole answer before its first byte.
 */
export async function fetchWhole(pool: Pool, request: IncomingMessage, basePath: string, requestBody?: Buffer): Promise<UpstreamAnswer> {
  const options = dispatchOptions(request, basePath);
  if (requestBody !== undefined) options.body = requestBody.length > 0 ? requestBody : null;
  const answer = await pool.request({ ...options, headers: options.headers as string[] });
  const headersAt = performance.now();
  const parts: Buffer[] = [];
  const chunks: Array<{ atMs: number; bytes: number }> = [];
  for await (const part of answer.body as AsyncIterable<Buffer>) {
    parts.push(part);
    chunks.push({ atMs: performance.now() - headersAt, bytes: part.length });
  }
  const body = Buffer.concat(parts);
  const headers: string[] = [];
  for (const [name, value] of Object.entries(answer.headers)) {
    if (HOP_BY_HOP.has(name) || name === 'content-length' || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.push(name, one);
  }
  headers.push('content-length', String(body.length));
  return { status: answer.statusCode, headers, body, ...(chunks.length > 1 ? { chunks } : {}) };
}
