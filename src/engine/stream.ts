/** Where a scanner tells what it saw: the first data event of a stream (ttft, ms) and each later one (gap, ms). */
export interface StreamSink {
  /** A response with content-type text/event-stream began. */
  recordStream(): void;
  recordFirstEvent(ttftMs: number): void;
  recordNextEvent(gapMs: number): void;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const DATA = Buffer.from('data');
const EVENT = Buffer.from('event');
const ERROR = Buffer.from('error');
/** Only data containing this can be an error event: the JSON of the rest is never parsed. */
const ERROR_KEY = Buffer.from('"error"');
const CONTENT_TYPE = Buffer.from('content-type');
const EVENT_STREAM = Buffer.from('text/event-stream');

/**
 * A response is a stream when its content-type is text/event-stream (any case, parameters such as
 * charset allowed). Every answer pays this: bytes compared in place, nothing allocated (about 30 ns).
 */
export function isEventStream(rawHeaders: readonly Buffer[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (sameLowercase(rawHeaders[i]!, 0, CONTENT_TYPE)) return isEventStreamType(rawHeaders[i + 1]!);
  }
  return false;
}

function isEventStreamType(value: Buffer): boolean {
  let at = 0;
  while (at < value.length && (value[at] === SPACE || value[at] === 0x09)) at++;
  if (value.length - at < EVENT_STREAM.length || !sameLowercase(value, at, EVENT_STREAM, true)) return false;
  const next = value[at + EVENT_STREAM.length];
  return next === undefined || next === 0x3b || next === SPACE || next === 0x09;
}

/** `buf` from `at` is `lower` in any case (ASCII); the whole of `buf` unless `prefix`. */
function sameLowercase(buf: Buffer, at: number, lower: Buffer, prefix = false): boolean {
  if (prefix ? buf.length - at < lower.length : buf.length - at !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const byte = buf[at + i]!;
    if ((byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte) !== lower[i]) return false;
  }
  return true;
}

/**
 * Reads a server-sent-events body as it arrives, chunk by chunk, one stream at a time (start() begins
 * the next): finds the events across any chunk split (lines end with LF, CR or CRLF; a blank line ends
 * an event), and tells the sink of each data event (at least one `data` field; comments and bare
 * `event:` lines are not) with the time from the request's start (ttft) or from the previous data
 * event (gap). An error event (named `error`, or a data JSON object with a non-null top-level `error`
 * or `"type":"error"`) is no data event: it sets `errorSeen`. An event left unfinished at the end of
 * the body is dropped, as the SSE standard says.
 */
export class SseScanner {
  /** Data events of the current stream. */
  dataEvents = 0;
  errorSeen = false;
  private startMs = 0;
  private lastEventAt = 0;
  /** The start of a line the previous chunk did not finish. */
  private partial: Buffer[] = [];
  /** The previous chunk ended with CR: an LF starting this one belongs to that line end. */
  private skipLf = false;
  // The event being read.
  private hasData = false;
  private namedError = false;
  private maybeError = false;
  private data: Buffer[] = [];

  constructor(private readonly sink: StreamSink) {}

  /** A new stream whose request started at `startMs` (performance.now clock). */
  start(startMs: number): void {
    this.startMs = startMs;
    this.dataEvents = 0;
    this.errorSeen = false;
    this.partial.length = 0;
    this.skipLf = false;
    this.clearEvent();
    this.sink.recordStream();
  }

  /** One chunk of the body, arrived at `nowMs`. */
  push(chunk: Buffer, nowMs: number): void {
    const n = chunk.length;
    let i = 0;
    if (this.skipLf) {
      this.skipLf = false;
      if (n > 0 && chunk[0] === LF) i = 1;
    }
    let start = i;
    // Lines end with LF mostly: without a CR in the chunk, the next line end is one native search away.
    const lfOnly = !chunk.includes(CR, i);
    while (i < n) {
      if (lfOnly) {
        const lf = chunk.indexOf(LF, i);
        if (lf === -1) break;
        i = lf;
      }
      const byte = chunk[i]!;
      if (byte !== LF && byte !== CR) {
        i++;
        continue;
      }
      if (this.partial.length === 0) this.line(chunk, start, i, nowMs);
      else {
        this.partial.push(chunk.subarray(start, i));
        const line = Buffer.concat(this.partial);
        this.partial.length = 0;
        this.line(line, 0, line.length, nowMs);
      }
      if (byte === CR) {
        if (i + 1 === n) this.skipLf = true;
        else if (chunk[i + 1] === LF) i++;
      }
      start = ++i;
    }
    if (start < n) this.partial.push(chunk.subarray(start));
  }

  private line(buf: Buffer, start: number, end: number, nowMs: number): void {
    if (start === end) {
      this.dispatch(nowMs);
      return;
    }
    if (buf[start] === COLON) return;
    if (isField(buf, start, end, DATA)) {
      this.hasData = true;
      const value = valueStart(buf, start + 4, end);
      const text = buf.subarray(value, end);
      this.data.push(text);
      if (!this.maybeError && text.includes(ERROR_KEY)) this.maybeError = true;
    } else if (isField(buf, start, end, EVENT)) {
      const value = valueStart(buf, start + 5, end);
      this.namedError = end - value === ERROR.length && ERROR.equals(buf.subarray(value, end));
    }
  }

  private dispatch(nowMs: number): void {
    if (this.namedError || (this.maybeError && isErrorJson(this.data))) {
      this.errorSeen = true;
    } else if (this.hasData) {
      if (this.dataEvents++ === 0) this.sink.recordFirstEvent(nowMs - this.startMs);
      else this.sink.recordNextEvent(nowMs - this.lastEventAt);
      this.lastEventAt = nowMs;
    }
    this.clearEvent();
  }

  private clearEvent(): void {
    this.hasData = false;
    this.namedError = false;
    this.maybeError = false;
    this.data.length = 0;
  }
}

/** The line is field `name`: the name, then a colon or the end of the line. */
function isField(buf: Buffer, start: number, end: number, name: Buffer): boolean {
  const after = start + name.length;
  if (after > end || (after < end && buf[after] !== COLON)) return false;
  for (let i = 0; i < name.length; i++) if (buf[start + i] !== name[i]) return false;
  return true;
}

/** Where a field's value starts: after the colon and one optional space. */
function valueStart(buf: Buffer, colon: number, end: number): number {
  if (colon >= end) return end;
  return colon + 1 < end && buf[colon + 1] === SPACE ? colon + 2 : colon + 1;
}

/** The event's data (its lines joined by LF) is a JSON object with a non-null `error`, or with type "error". */
function isErrorJson(lines: readonly Buffer[]): boolean {
  const text = lines.length === 1 ? lines[0]!.toString('utf8') : lines.map((line) => line.toString('utf8')).join('\n');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const object = value as Record<string, unknown>;
  return (Object.hasOwn(object, 'error') && object.error !== null) || object.type === 'error';
}
