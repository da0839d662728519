import { isEventStreamContentType } from '../engine/stream.js';
import type { UpstreamAnswer } from './fault.js';

/** A body chunk and when it is due (ms after the headers), as UpstreamAnswer.chunks holds them. */
export interface TimedChunk {
  atMs: number;
  bytes: number;
}

/** Where the server-sent event starting at `from` ends (after its blank line, '\n\n' or '\r\n\r\n'); -1 if it does not. */
function eventEnd(body: Buffer, from: number): number {
  const lf = body.indexOf('\n\n', from);
  const crlf = body.indexOf('\r\n\r\n', from);
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return crlf + 4;
  return lf === -1 ? -1 : lf + 2;
}

/** Bytes up to and including the N-th event of a server-sent-events body (all of it when it has fewer). */
export function afterEvents(body: Buffer, count: number): number {
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const end = eventEnd(body, offset);
    if (end === -1) return body.length;
    offset = end;
  }
  return offset;
}

/** The complete events of a server-sent-events body. */
export function countEvents(body: Buffer): number {
  let count = 0;
  for (let end = eventEnd(body, 0); end !== -1; end = eventEnd(body, end)) count++;
  return count;
}

/** True for an answer whose Content-Type is text/event-stream, by the load engine's rule (stream.ts). */
export function isEventStream(answer: UpstreamAnswer): boolean {
  for (let i = 0; i < answer.headers.length; i += 2) {
    if (answer.headers[i]!.toLowerCase() === 'content-type') return isEventStreamContentType(answer.headers[i + 1]!);
  }
  return false;
}

/**
 * The answer's chunks split at byte `offset`: those before it (a chunk across it cut in two, both
 * halves due when it was) and those after. An answer held whole is one chunk due at once.
 */
export function splitChunks(answer: UpstreamAnswer, offset: number): { before: TimedChunk[]; after: TimedChunk[] } {
  const chunks = answer.chunks && answer.chunks.length > 0 ? answer.chunks : [{ atMs: 0, bytes: answer.body.length }];
  const before: TimedChunk[] = [];
  const after: TimedChunk[] = [];
  let start = 0;
  for (const chunk of chunks) {
    const end = start + chunk.bytes;
    if (end <= offset) before.push(chunk);
    else if (start >= offset) after.push(chunk);
    else {
      before.push({ atMs: chunk.atMs, bytes: offset - start });
      after.push({ atMs: chunk.atMs, bytes: end - offset });
    }
    start = end;
  }
  return { before, after };
}
