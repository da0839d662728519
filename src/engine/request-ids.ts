import { randomBytes } from 'node:crypto';

/**
 * Request ids (chaos runs): each logical request carries `X-Request-Id` and a W3C `traceparent` made
 * of the run id and the request's sequence, so a chaos proxy can tell which dependency calls one
 * request caused when the service propagates either header. Retries and failovers of one request
 * (policy mode) send the same ids: they are attempts of one request.
 *
 *   trace id     = run id (16 hex) + sequence (16 hex)       X-Request-Id = the same 32 hex
 *   traceparent  = 00-<trace id>-<span id = sequence>-00     (flags 00: not sampled, so a traced
 *                                                              service does not record every request)
 *
 * The sequence is `base` + the request's number + 1 (never 0: an all-zero span id is invalid). Request
 * numbers are unique over a run's worker threads and shards (share.ts interleaves them), and a campaign
 * gives each scenario its own `base`, so every request of a session has its own id.
 */
export interface RequestIdOptions {
  /** 16 lower-case hex digits (newRunId). */
  runId: string;
  /** Added to every sequence (a campaign's scenario k: k × SCENARIO_SPAN). */
  base?: number;
}

/** What a plan sends: the ids, less a header the user gives (the user's value wins; never two). */
export interface RequestIds {
  runId: string;
  base: number;
  requestId: boolean;
  traceparent: boolean;
}

/** The sequences one campaign scenario may use: 2^40 requests each, then the next scenario's. */
export const SCENARIO_SPAN = 2 ** 40;

const RUN_ID = /^[0-9a-f]{16}$/;

/** A fresh run id: 16 random lower-case hex digits, not all zero (the trace id would be invalid). */
export function newRunId(): string {
  for (;;) {
    const id = randomBytes(8).toString('hex');
    if (id !== '0000000000000000') return id;
  }
}

/** The problem with request-id options, or undefined. */
export function requestIdProblem(options: RequestIdOptions): string | undefined {
  if (!RUN_ID.test(options.runId)) return `requestIds.runId '${options.runId}' must be 16 lower-case hex digits`;
  const base = options.base ?? 0;
  if (!(Number.isSafeInteger(base) && base >= 0 && base < 2 ** 52)) return `requestIds.base '${base}' must be a whole number below 2^52`;
  return undefined;
}

/** What to send, given the plan's headers: a header of the same name among them wins. */
export function requestIdsFor(options: RequestIdOptions, headerNames: readonly string[]): RequestIds {
  const given = new Set(headerNames.map((name) => name.toLowerCase()));
  return {
    runId: options.runId,
    base: options.base ?? 0,
    requestId: !given.has('x-request-id'),
    traceparent: !given.has('traceparent'),
  };
}

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const ZERO_HIGH = '00000000';

/** `n` (0 <= n < 2^53) as 16 lower-case hex digits: table look-ups, no number-to-string conversion. */
export function hex16(n: number): string {
  const low = n >>> 0;
  const high = (n - low) / 4294967296;
  const lowHex = BYTE_HEX[low >>> 24]! + BYTE_HEX[(low >>> 16) & 255]! + BYTE_HEX[(low >>> 8) & 255]! + BYTE_HEX[low & 255]!;
  if (high === 0) return ZERO_HIGH + lowHex;
  return BYTE_HEX[high >>> 24]! + BYTE_HEX[(high >>> 16) & 255]! + BYTE_HEX[(high >>> 8) & 255]! + BYTE_HEX[high & 255]! + lowHex;
}

/**
 * One connection's request headers with the id headers appended, filled in per request: the list is
 * built once; undici copies the headers when a request is dispatched, so the next request may refill it.
 */
export class RequestIdHeaders {
  readonly headers: string[];
  private readonly requestIdAt: number;
  private readonly traceparentAt: number;
  private readonly base: number;
  private readonly runId: string;
  /** '00-' + run id: the fixed start of every traceparent. */
  private readonly traceStart: string;

  constructor(planHeaders: readonly string[], ids: RequestIds) {
    this.headers = [...planHeaders];
    this.requestIdAt = ids.requestId ? this.headers.push('x-request-id', '') - 1 : -1;
    this.traceparentAt = ids.traceparent ? this.headers.push('traceparent', '') - 1 : -1;
    this.base = ids.base + 1;
    this.runId = ids.runId;
    this.traceStart = `00-${ids.runId}`;
  }

  /** Fills in the ids of request number `index`. */
  fill(index: number): void {
    const sequence = hex16(this.base + index);
    if (this.requestIdAt !== -1) this.headers[this.requestIdAt] = this.runId + sequence;
    if (this.traceparentAt !== -1) this.headers[this.traceparentAt] = `${this.traceStart}${sequence}-${sequence}-00`;
  }
}
