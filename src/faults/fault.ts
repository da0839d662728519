import { UsageError } from '../errors.js';

import type { IncomingMessage, ServerResponse } from 'node:http';

/** An upstream (or mock) answer held whole, for faults that reshape it. */
export interface UpstreamAnswer {
  status: number;
  /** Flat [name, value, ...] list, hop-by-hop headers already removed. */
  headers: string[];
  body: Buffer;
  /** A replayed answer: how its body arrived (ms after the headers, bytes), for faults that keep the stream's shape. */
  chunks?: ReadonlyArray<{ atMs: number; bytes: number }>;
}

/**
 * What a fault may do with one dependency call. The proxy builds it; the fault takes the exchange
 * over and must end it one way or another (answer, reset, close, or hold until the client gives up).
 */
export interface FaultCall {
  request: IncomingMessage;
  response: ServerResponse;
  /** Forward to the upstream (or the mock) and stream its answer back unchanged. */
  passThrough(): void;
  /** Forward to the upstream (or the mock) and hand back its whole answer instead of sending it. */
  fetchUpstream(): Promise<UpstreamAnswer>;
  /** The proxy's seeded generator, for faults with a random parameter. */
  random(): number;
  /** Seconds to put in Retry-After on 429 and 503. */
  retryAfterSeconds: number;
  /** Registers a timer that must not outlive the proxy; cleared on close. */
  later(ms: number, fn: () => void): void;
}

/** One configured fault, e.g. `status:503` or `latency:100ms~300ms`. */
export interface Fault {
  /** The spec as the user wrote it, normalised: the key counts are kept under. */
  readonly name: string;
  /**
   * True for faults that act on the listener for a whole window (`down`) rather than on one call.
   * The proxy handles those itself; inject() is never called for them.
   */
  readonly wholeWindow?: boolean;
  inject(call: FaultCall): void;
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

/** Hop-by-hop headers (RFC 9110 section 7.6.1) never forwarded by a proxy. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate', 'proxy-authorization']);
