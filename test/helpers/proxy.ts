import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { cpuWait } from './machine.js';
import { startServer, type TestServer } from './servers.js';

/** What one client call ended with: an answer (possibly cut short) or an error, and when. */
export interface CallOutcome {
  status?: number;
  headers?: IncomingHttpHeaders | Record<string, string | string[] | undefined>;
  /** Raw [name, value, ...] response headers (node client only). */
  rawHeaders?: string[];
  /** Body bytes received (all of them, or those before the error). */
  body: Buffer;
  /** Set when the call failed: before the headers, or in the middle of the body. */
  error?: { code?: string; message: string; name: string };
  /** True when the error came after the status line and headers (a body cut short). */
  errorAfterHeaders: boolean;
  /** Milliseconds from the call's start until its headers arrived (or it failed before them). */
  headersMs?: number;
  /** Milliseconds from the call's start until it was over (body complete or error). */
  elapsedMs: number;
  /**
   * Milliseconds of that time other processes kept this one off the CPU (see machine.ts): an upper
   * timing bound adds it, so it holds on a loaded machine and is as strict as stated on a quiet one.
   */
  waitedMs: number;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Client gives up after this long without a response (node: socket timeout; undici: headersTimeout). */
  timeoutMs?: number;
}

function describe(error: unknown): { code?: string; message: string; name: string } {
  const e = error as NodeJS.ErrnoException;
  return { code: e.code, message: e.message, name: e.name };
}

/**
 * One call with node's http client, on a fresh connection (agent: false). With `timeoutMs`, the
 * socket's idle timeout fires and the call is abandoned, as an application would.
 */
export function nodeCall(url: string, options: CallOptions = {}): Promise<CallOutcome> {
  const started = performance.now();
  const waited = cpuWait();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    let response: IncomingMessage | undefined;
    let headersMs: number | undefined;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      resolve({
        status: response?.statusCode,
        headers: response?.headers,
        rawHeaders: response?.rawHeaders,
        body: Buffer.concat(chunks),
        error: error === undefined ? undefined : describe(error),
        errorAfterHeaders: error !== undefined && response !== undefined,
        headersMs,
        elapsedMs: performance.now() - started,
        waitedMs: waited(),
      });
    };
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false, timeout: options.timeoutMs },
      (res) => {
        response = res;
        headersMs = performance.now() - started;
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => finish());
        res.on('error', (error) => finish(error));
      },
    );
    req.on('timeout', () => {
      const error = Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' });
      finish(error);
      req.destroy();
    });
    req.on('error', (error) => finish(error));
    req.end(options.body);
  });
}

/** One call with undici's `request` (global dispatcher unless one is given); `timeoutMs` is headersTimeout. */
export async function undiciCall(url: string, options: CallOptions & { dispatcher?: Dispatcher } = {}): Promise<CallOutcome> {
  const started = performance.now();
  const waited = cpuWait();
  const chunks: Buffer[] = [];
  let status: number | undefined;
  let headers: Record<string, string | string[] | undefined> | undefined;
  let headersMs: number | undefined;
  try {
    const answer = await undiciRequest(url, {
      method: (options.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: options.headers,
      body: options.body,
      headersTimeout: options.timeoutMs,
      dispatcher: options.dispatcher,
    });
    status = answer.statusCode;
    headers = answer.headers;
    headersMs = performance.now() - started;
    for await (const chunk of answer.body) chunks.push(chunk as Buffer);
    return {
      status,
      headers,
      body: Buffer.concat(chunks),
      errorAfterHeaders: false,
      headersMs,
      elapsedMs: performance.now() - started,
      waitedMs: waited(),
    };
  } catch (error) {
    return {
      status,
      headers,
      body: Buffer.concat(chunks),
      error: describe(error),
      errorAfterHeaders: status !== undefined,
      headersMs: headersMs ?? performance.now() - started,
      elapsedMs: performance.now() - started,
      waitedMs: waited(),
    };
  }
}

/**
 * Writes `text` to a fresh TCP connection and collects what comes back until the peer closes or
 * `waitMs` passes. `closed` says whether the peer closed the connection within that time.
 */
export function rawExchange(port: number, text: string, waitMs = 1000): Promise<{ data: string; closed: boolean; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ data, closed, socket });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (error) => {
      if (!done) {
        clearTimeout(timer);
        done = true;
        reject(error);
      }
    });
  });
}

/** Open TCP sockets (client and server ends) in this process, from node's own resource list. */
export function openTcpSockets(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
}

/** One request as the upstream saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/**
 * An upstream on 127.0.0.1 that records every request whole (method, target, headers, body), then
 * answers with `respond` (default: 200, a fixed JSON body).
 */
export async function startRecordingServer(
  respond: (seen: SeenRequest, response: import('node:http').ServerResponse) => void = (_seen, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
): Promise<TestServer & { requests: SeenRequest[] }> {
  const requests: SeenRequest[] = [];
  const server = await startServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const seen: SeenRequest = {
        method: request.method!,
        url: request.url!,
        headers: request.headers,
        rawHeaders: request.rawHeaders,
        body: Buffer.concat(chunks),
      };
      requests.push(seen);
      respond(seen, response);
    });
  });
  return Object.assign(server, { requests });
}

/**
 * One GET through an undici dispatcher whose client-side timeout starts when the request is written
 * to a socket (not while it waits for one), as an application's per-call deadline would on a busy box.
 * Resolves with what the client saw: '200', '503', '200 cut short', 'client timeout', or an error code.
 */
export function callWithClientTimeout(dispatcher: Dispatcher, path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    let status: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const handler = {
      onConnect(abort: (reason: Error) => void) {
        timer = setTimeout(() => {
          timedOut = true;
          abort(new Error('client timeout'));
        }, timeoutMs);
      },
      onHeaders(statusCode: number) {
        clearTimeout(timer);
        status = statusCode;
        return true;
      },
      onData() {
        return true;
      },
      onComplete() {
        resolve(String(status));
      },
      onError(error: Error) {
        clearTimeout(timer);
        if (timedOut) resolve('client timeout');
        else if (status !== undefined) resolve(`${status} cut short`);
        else resolve((error as NodeJS.ErrnoException).code ?? error.name);
      },
      onResponseStarted() {},
      onUpgrade() {},
      onBodySent() {},
    };
    dispatcher.dispatch({ path, method: 'GET' }, handler as unknown as Dispatcher.DispatchHandler);
  });
}
