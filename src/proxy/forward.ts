import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
import { HOP_BY_HOP, type UpstreamAnswer } from '../faults/fault.js';

/** Request headers to send upstream: the client's, less hop-by-hop headers and Host (undici sets it). */
export function upstreamRequestHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'host' || HOP_BY_HOP.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** Response headers to send back: the upstream's (raw Buffers from undici), less hop-by-hop headers. */
export function downstreamResponseHeaders(raw: readonly Buffer[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  return out;
}

export function hasRequestBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function dispatchOptions(request: IncomingMessage, basePath: string): Dispatcher.DispatchOptions {
  return {
    path: basePath === '' ? request.url! : basePath + request.url!,
    method: request.method as Dispatcher.HttpMethod,
    headers: upstreamRequestHeaders(request.rawHeaders),
    body: hasRequestBody(request) ? request : null,
  };
}

/**
 * Streams one upstream answer to the client as it arrives (undici dispatch handler): status and
 * headers, then body chunks with backpressure, then the end. An upstream failure before the headers
 * is a 502; after them the client connection is cut, as a real proxy would.
 */
export class StreamingForward {
  private abort: ((reason: Error) => void) | null = null;
  private finished = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly onUpstreamError: () => void,
  ) {
    response.once('close', this.onClientClose);
  }

  onConnect(abort: (reason: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.response.writeHead(statusCode, downstreamResponseHeaders(rawHeaders));
    this.resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    const flowing = this.response.write(chunk);
    if (!flowing) this.response.once('drain', this.resume);
    return flowing;
  }

  onComplete(): void {
    this.finished = true;
    this.response.end();
  }

  onError(): void {
    this.finished = true;
    this.onUpstreamError();
    if (this.response.headersSent) {
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

  private readonly onClientClose = (): void => {
    if (!this.finished && this.abort !== null) this.abort(new Error('client went away'));
  };
}

/** Fetches one upstream answer whole (for faults that reshape it); rejects on upstream failure. */
export async function fetchWhole(pool: Pool, request: IncomingMessage, basePath: string): Promise<UpstreamAnswer> {
  const options = dispatchOptions(request, basePath);
  const answer = await pool.request({ ...options, headers: options.headers as string[] });
  const body = Buffer.from(await answer.body.arrayBuffer());
  const headers: string[] = [];
  for (const [name, value] of Object.entries(answer.headers)) {
    if (HOP_BY_HOP.has(name) || name === 'content-length' || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.push(name, one);
  }
  headers.push('content-length', String(body.length));
  return { status: answer.statusCode, headers, body };
}
