import { UsageError } from '../errors.js';

/**
 * What a fault may do to one connection, whatever the protocol (in the spirit of Toxiproxy's
 * ToxicStub): the HTTP proxy implements it per call (src/proxy/http-call.ts), a TCP transport per
 * connection. The fault takes the exchange over and must end it one way or another.
 */
export interface ConnectionOps {
  /** Forward to the upstream (or the mock) and pass its answer back unchanged. */
  passThrough(): void;
  /** Forward, and pass the upstream's bytes back shaped: paced, and/or cut after N bytes. */
  pass(shape: ByteShape): void;
  /** Reset the connection (TCP RST), nothing sent; curl reports exit 56. */
  reset(): void;
  /** Close the connection cleanly (FIN), nothing sent; curl reports exit 52 (empty reply). */
  close(): void;
  /** Read what the client sends, send nothing: the connection stays open until the client goes away or the proxy closes. */
  hold(): void;
  /** The proxy's seeded generator, for faults with a random parameter. */
  random(): number;
  /** Registers a timer that must not outlive the proxy; cleared on close. */
  later(ms: number, fn: () => void): void;
}

/**
 * How bytes are passed on. Each chunk is due its gap after the previous one was due (paced from the
 * start: a late timer does not push the rest later); a recorded stream keeps its own gaps where they are longer.
 */
export interface ByteShape {
  /** Least gap before a chunk of `bytes` (ms): a rate, or a latency per chunk. */
  gapMs?: (bytes: number) => number;
  /** Chunks larger than this go in pieces of this size (bytes), a whole answer's one chunk too: a rate trickles. */
  pieceBytes?: number;
  /** Close (FIN) once this many bytes are out; the rest is never sent. */
  cutAfter?: number;
}

/** An upstream (or mock) answer held whole, for faults that reshape it. */
export interface UpstreamAnswer {
  status: number;
  /** Flat [name, value, ...] list, hop-by-hop headers already removed. */
  headers: string[];
  body: Buffer;
  /** A replayed answer: how its body arrived (ms after the headers, bytes), for faults that keep the stream's shape. */
  chunks?: ReadonlyArray<{ atMs: number; bytes: number }>;
}

/** The HTTP layer on top of the connection: answers, whole upstream answers, and Retry-After. */
export interface HttpOps extends ConnectionOps {
  /** Answers the call with this status, headers and body instead of calling the upstream (the request is read and dropped). */
  answer(status: number, headers: Record<string, string | number>, body: Buffer | string): void;
  /** Forwards and hands the whole answer to `use` instead of sending it; when the upstream fails, the connection is cut. */
  fetchUpstream(use: (answer: UpstreamAnswer) => void): void;
  /**
   * Sends an answer held whole: its status, headers announcing the whole body (a replayed stream
   * without a Content-Length stays chunked), then the body shaped.
   */
  send(answer: UpstreamAnswer, shape: ByteShape): void;
  /**
   * The fault does not apply to this answer (a stream fault on an answer that is no stream): it is
   * counted as not applicable rather than injected. The fault still sends the answer (unchanged).
   */
  notApplicable(): void;
  /** Seconds to put in Retry-After on 429 and 503. */
  readonly retryAfterSeconds: number;
  /** The provider whose wire format the answers speak (--api, or a preset mock): injected errors take its shape. */
  readonly api: ProviderApi | undefined;
}

/** An LLM provider's error formats (src/proxy/providers), for faults that inject errors shaped like its own. */
export interface ProviderApi {
  /** 'openai', 'anthropic': named on the proxy's start line and in reports (target). */
  readonly name: string;
  /** Its error answer with this status: JSON body, and headers (Retry-After, rate limits) where the provider sends them. */
  errorAnswer(status: number, retryAfterSeconds: number): { headers: Record<string, string | number>; body: string };
  /** Its error event in a server-sent-events stream, blank line included. */
  streamErrorEvent(): string;
}

/**
 * Connection-level faults act through ConnectionOps alone, so a TCP transport can run them too;
 * HTTP faults need status codes, bodies and headers.
 */
export type Fault = ConnectionFault | HttpFault;

interface FaultBase {
  /** The spec as the user wrote it, normalised: the key counts are kept under. */
  readonly name: string;
  /**
   * True for faults that act on the listener for a whole window (`down`) rather than on one call.
   * The FaultDecider schedules those and the transport closes its listener; inject() is never called for them.
   */
  readonly wholeWindow?: boolean;
}

export interface ConnectionFault extends FaultBase {
  readonly layer: 'connection';
  inject(ops: ConnectionOps): void;
}

export interface HttpFault extends FaultBase {
  readonly layer: 'http';
  inject(ops: HttpOps): void;
}

/** A kind of fault: parses and checks its argument, then builds the fault. */
export interface FaultType {
  readonly type: string;
  /** Argument grammar, for error messages: 'CODE (400-599)'. */
  readonly argument: string;
  /** Throws UsageError with a message naming the bad argument. */
  create(argument: string | undefined): Fault;
}

/** For fault types that take no argument: 'reset:5' is a usage error. */
export function refuseArgument(type: string, argument: string | undefined): void {
  if (argument !== undefined) throw new UsageError(`fault '${type}:${argument}': ${type} takes no argument`);
}
