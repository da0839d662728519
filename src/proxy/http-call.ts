import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { ByteShape, HttpOps, ProviderApi, UpstreamAnswer } from '../faults/fault.js';
import { markCut } from './observe.js';

/** What the fault operations need from the proxy: built once per proxy, shared by every faulted call. */
export interface CallHost {
  random(): number;
  later(ms: number, fn: () => void): void;
  passThrough(request: IncomingMessage, response: ServerResponse): void;
  /** Rejects when the upstream fails. */
  fetchUpstream(request: IncomingMessage, response: ServerResponse): Promise<UpstreamAnswer>;
  retryAfterSeconds(): number;
  /** The provider whose wire format injected errors take (--api, or a preset mock). */
  api(): ProviderApi | undefined;
  /** The fault `name`, decided in counts epoch `epoch`, did not apply to the call answered by `response`: not counted as injected. */
  notApplicable(name: string, epoch: number, response: ServerResponse): void;
}

/**
 * The fault operations on one node:http call: the only place faults meet IncomingMessage and
 * ServerResponse. Built for faulted calls only; a pass-through call never makes one.
 */
export class HttpCall implements HttpOps {
  constructor(
    private readonly host: CallHost,
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    /** The fault acting on the call. */
    private readonly faultName: string,
    /** The decider's countsEpoch when the fault was decided. */
    private readonly epoch = 0,
  ) {}

  notApplicable(): void {
    this.host.notApplicable(this.faultName, this.epoch, this.response);
  }

  get api(): ProviderApi | undefined {
    return this.host.api();
  }

  get retryAfterSeconds(): number {
    return this.host.retryAfterSeconds();
  }

  random(): number {
    return this.host.random();
  }

  later(ms: number, fn: () => void): void {
    this.host.later(ms, fn);
  }

  passThrough(): void {
    this.host.passThrough(this.request, this.response);
  }

  /** HTTP: the upstream's answer is fetched whole, then sent with its body shaped (status and headers first). */
  pass(shape: ByteShape): void {
    this.fetchUpstream((answer) => this.send(answer, shape));
  }

  reset(): void {
    markCut(this.response);
    this.request.socket.resetAndDestroy();
  }

  close(): void {
    markCut(this.response);
    const socket = this.request.socket;
    socket.end();
    socket.destroySoon();
  }

  hold(): void {
    // Nothing is written. The proxy destroys held sockets when it closes.
    this.request.resume();
  }

  answer(status: number, headers: Record<string, string | number>, body: Buffer | string): void {
    this.request.resume();
    this.response.writeHead(status, reasonPhrase(status), headers).end(body);
  }

  fetchUpstream(use: (answer: UpstreamAnswer) => void): void {
    this.host.fetchUpstream(this.request, this.response).then(use, () => {
      markCut(this.response);
      this.request.socket.destroy();
    });
  }

  send(answer: UpstreamAnswer, shape: ByteShape): void {
    const { response } = this;
    const { body } = answer;
    response.writeHead(answer.status, wholeBodyHeaders(answer));
    const chunks = piecesOf(
      answer.chunks && answer.chunks.length > 0 ? answer.chunks : [{ atMs: 0, bytes: body.length }],
      shape.pieceBytes,
    );
    const keep = shape.cutAfter ?? body.length;
    // When each chunk is due (ms after the headers): at its own time, or the shape's gap after the one before when that is later.
    const due: number[] = [];
    chunks.forEach((chunk, i) => {
      const previous = i === 0 ? { atMs: 0, dueMs: 0 } : { atMs: chunks[i - 1]!.atMs, dueMs: due[i - 1]! };
      due.push(previous.dueMs + Math.max(chunk.atMs - previous.atMs, shape.gapMs?.(chunk.bytes) ?? 0));
    });
    // Paced from the start, one timer at a time: a late timer delays its chunk, not every chunk after it;
    // the chunks already due go out in one loop (neither a timer each nor a call stack as deep as they are many).
    const startedAt = performance.now();
    let index = 0;
    let offset = 0;
    const next = (): void => {
      if (response.destroyed) return;
      while (index < chunks.length && offset < keep) {
        const waitMs = startedAt + due[index]! - performance.now();
        if (waitMs > 0) {
          this.host.later(waitMs, next);
          return;
        }
        const bytes = Math.min(chunks[index]!.bytes, keep - offset);
        response.write(body.subarray(offset, offset + bytes));
        offset += bytes;
        index++;
      }
      if (offset >= body.length) {
        response.end();
        return;
      }
      // Cut short: the status and headers (even with no body byte yet), then close (FIN) without the rest.
      markCut(response);
      response.flushHeaders();
      response.socket?.end();
    };
    // A body that starts later (a stream's first event): the headers leave now.
    if (due[0]! > 0) response.flushHeaders();
    next();
  }
}

/**
 * The status line's reason: Node's for the codes it knows; Node says 'unknown' for the rest, so 529
 * is Anthropic's 'Overloaded' and any other code its class ('Client Error', 'Server Error').
 */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? (status === 529 ? 'Overloaded' : status >= 500 ? 'Server Error' : 'Client Error');
}

/** A body that arrived whole, as chunks of at most `pieceBytes` (all due at once: the shape's gaps space them). */
/** The chunks, each larger than `pieceBytes` split into pieces of that size that share its arrival time. */
function piecesOf(
  chunks: ReadonlyArray<{ atMs: number; bytes: number }>,
  pieceBytes: number | undefined,
): Array<{ atMs: number; bytes: number }> {
  if (pieceBytes === undefined) return chunks.slice();
  const pieces: Array<{ atMs: number; bytes: number }> = [];
  for (const { atMs, bytes } of chunks) {
    if (bytes === 0) pieces.push({ atMs, bytes });
    for (let done = 0; done < bytes; done += pieceBytes) pieces.push({ atMs, bytes: Math.min(pieceBytes, bytes - done) });
  }
  return pieces;
}

/**
 * The answer's headers announcing its whole body: Content-Length is its size, except for a replayed
 * stream that had none (chunked), which stays chunked.
 */
function wholeBodyHeaders(answer: UpstreamAnswer): string[] {
  const out: string[] = [];
  let hadLength = false;
  for (let i = 0; i < answer.headers.length; i += 2) {
    const name = answer.headers[i]!;
    if (name.toLowerCase() !== 'content-length') out.push(name, answer.headers[i + 1]!);
    else if (!hadLength) {
      hadLength = true;
      out.push(name, String(answer.body.length));
    }
  }
  if (!hadLength && !answer.chunks) out.push('content-length', String(answer.body.length));
  return out;
}
