import type { IncomingMessage } from 'node:http';
import type { HarWriter } from '../har/writer.js';
import type { ForwardTap } from './forward.js';

/**
 * Records one forwarded exchange for `--record`: the request with its body (read whole before it was
 * forwarded), then the answer as it arrives, with the time of each body chunk, written to the HAR
 * when the answer is complete. Calls that fail are not recorded.
 */
export function recordingTap(writer: HarWriter, request: IncomingMessage, path: string, body: Buffer): ForwardTap {
  const startedDateTime = new Date();
  const sentAt = performance.now();
  const bodyChunks: Buffer[] = [];
  const chunks: Array<{ atMs: number; bytes: number }> = [];
  let headersAt = 0;
  let status = 0;
  let statusText = '';
  let responseHeaders: Array<[string, string]> = [];
  return {
    headers(code, text, headers) {
      headersAt = performance.now();
      status = code;
      statusText = text;
      responseHeaders = [];
      for (let i = 0; i < headers.length; i += 2) responseHeaders.push([headers[i]!, headers[i + 1]!]);
    },
    data(chunk) {
      chunks.push({ atMs: round(performance.now() - headersAt), bytes: chunk.length });
      bodyChunks.push(chunk);
    },
    complete() {
      const requestHeaders: Array<[string, string]> = [];
      for (let i = 0; i < request.rawHeaders.length; i += 2) requestHeaders.push([request.rawHeaders[i]!, request.rawHeaders[i + 1]!]);
      writer.add({
        startedDateTime,
        method: request.method!,
        path,
        requestHeaders,
        requestBody: body,
        status,
        statusText,
        responseHeaders,
        responseBody: Buffer.concat(bodyChunks),
        waitMs: round(headersAt - sentAt),
        totalMs: round(performance.now() - sentAt),
        chunks,
      });
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
