import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { cpuWait } from './machine.js';

/** One server-sent event as it arrived: its `event:` name (if any), its data, ms after the response headers. */
export interface ArrivedEvent {
  event?: string;
  data: string;
  atMs: number;
}

export interface StreamOutcome {
  status: number;
  /** The status line's reason phrase ('Overloaded'). */
  statusMessage: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body's events (a blank line ends each), timed; empty for a body that is no stream. */
  events: ArrivedEvent[];
  /** ms from the call's start to the response headers. */
  headersMs: number;
  /** ms from the call's start to the end of the body (or its error). */
  elapsedMs: number;
  /** Set when the body broke off (socket cut). */
  error?: string;
  /** ms other processes kept this one off the CPU during the call (machine.ts): added to upper timing bounds. */
  waitedMs: number;
}

/** POSTs `body` (JSON) with node's http client on a fresh connection and times each event of the answer. */
export function postForEvents(url: string, body: unknown, headers: Record<string, string> = {}): Promise<StreamOutcome> {
  const waited = cpuWait();
  const started = performance.now();
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const headersAt = performance.now();
      let text = '';
      let parsed = 0;
      const events: ArrivedEvent[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        const at = performance.now() - headersAt;
        for (let end = text.indexOf('\n\n', parsed); end !== -1; end = text.indexOf('\n\n', parsed)) {
          events.push({ ...parseEvent(text.slice(parsed, end)), atMs: at });
          parsed = end + 2;
        }
      });
      const done = (error?: string) =>
        resolve({
          status: res.statusCode!,
          statusMessage: res.statusMessage!,
          headers: res.headers,
          body: text,
          events,
          headersMs: headersAt - started,
          elapsedMs: performance.now() - started,
          waitedMs: waited(),
          ...(error === undefined ? {} : { error }),
        });
      res.on('end', () => done());
      res.on('error', (error) => done(error.message));
      res.on('aborted', () => done('aborted'));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function parseEvent(block: string): { event?: string; data: string } {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  return { ...(event === undefined ? {} : { event }), data: data.join('\n') };
}
