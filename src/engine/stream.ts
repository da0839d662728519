/**
 * Where a scanner's measurements of one stream go (the run's Recorder), told only once the request is
 * known to count (SseScanner.commit): the stream, its first data event (ttft, ms), each later one (gap,
 * ms), and the silence that ended it in an error event or a cut (a gap without a data event).
 */
export interface StreamSink {
  /** A response with content-type text/event-stream began. */
  recordStream(): void;
  recordFirstEvent(ttftMs: number): void;
  recordNextEvent(gapMs: number): void;
  recordFinalSilence(gapMs: number): void;
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
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const CONTENT_TYPE = Buffer.from('content-type');
const EVENT_STREAM = Buffer.from('text/event-stream');
/**
 * What a scanner keeps of one line and of one event's data (bytes): a server that never ends a line or
 * an event (`data: ` and endless bytes) must not grow the client's memory. What is past it is dropped.
 */
export const SSE_KEEP_BYTES = 64 * 1024;
/** An error JSON whose first key says so (`{"error": non-null` or `{"type":"error"`): all an oversized event is judged by. */
const ERROR_PREFIX = /^\s*\{\s*(?:"error"\s*:(?!\s*null\b)|"type"\s*:\s*"error")/;

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

/** The same rule for a header value held as a string (a whole upstream answer's, off the hot path). */
export function isEventStreamContentType(value: string): boolean {
  return isEventStreamType(Buffer.from(value, 'latin1'));
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

/** Up to SSE_KEEP_BYTES bytes copied out of the chunks (a view would hold a whole chunk); `over`: some were dropped. */
class Kept {
  buf: Buffer = Buffer.alloc(0);
  length = 0;
  over = false;

  append(source: Buffer, start: number, end: number): void {
    let take = end - start;
    if (take > SSE_KEEP_BYTES - this.length) {
      take = SSE_KEEP_BYTES - this.length;
      this.over = true;
    }
    if (take <= 0) return;
    if (this.length + take > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(SSE_KEEP_BYTES, Math.max(256, 2 * this.buf.length, this.length + take)));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    source.copy(this.buf, this.length, start, start + take);
    this.length += take;
  }

  text(): string {
    return this.buf.toString('utf8', 0, this.length);
  }

  /** Forgets the bytes; `release` also gives back a buffer grown past 4 KiB (at a stream's end). */
  clear(release = false): void {
    this.length = 0;
    this.over = false;
    if (release && this.buf.length > 4096) this.buf = Buffer.alloc(0);
  }
}

const NEWLINE = Buffer.from('\n');

/**
 * Reads a server-sent-events body as it arrives, chunk by chunk, one stream at a time (start() begins
 * the next, end() closes it): finds the events across any chunk split (lines end with LF, CR or CRLF,
 * also when an empty chunk falls between CR and LF; a blank line ends an event; a UTF-8 BOM opening the
 * body is skipped), and measures each data event (at least one `data` field; comments and bare
 * `event:` lines are not): the time from the request's start to the first (ttft), from the previous
 * data event to each later one (gap), and, when the stream ends in an error event or a cut after a data
 * event, from the last data event to that end (the longest silence the caller saw mid-answer is then
 * in the gaps too). An error event (named `error`, or a data JSON object with a non-null top-level
 * `error` or `"type":"error"`) is no data event: it sets `errorSeen`. An event left unfinished at the
 * end of the body is dropped, as the SSE standard says.
 *
 * Memory is bounded: at most SSE_KEEP_BYTES of a line and of an event's data are kept, the rest is
 * dropped. A line cut so keeps its field name; an `event:` line cut so is no `error` name; an event
 * whose data was cut is an error event only if that kept data starts as an error JSON does
 * (`{"error":` not followed by null, or `{"type":"error"`), its JSON is not parsed.
 *
 * The measurements wait in the scanner until commit() tells them to a sink: a request that is
 * cancelled, or an attempt a retry replaces, never reaches the run's figures.
 */
export class SseScanner {
  /** Data events of the current stream. */
  dataEvents = 0;
  errorSeen = false;
  private startMs = 0;
  private lastEventAt = 0;
  /** The start of a line a previous chunk did not finish. */
  private readonly partial = new Kept();
  /** The previous chunk ended with CR: an LF starting the next non-empty one belongs to that line end. */
  private skipLf = false;
  /** Bytes of a leading BOM seen (0-2); 3 once the stream's first bytes are behind. */
  private bomAt = 3;
  // The event being read: its data lines joined by LF.
  private hasData = false;
  private namedError = false;
  private maybeError = false;
  private readonly data = new Kept();
  // The stream's measurements until commit (ms): the last silence is -1 when there was none.
  private pending = false;
  private ttftMs = 0;
  private gaps = new Float64Array(16);
  private gapCount = 0;
  private silenceMs = -1;

  /** A new stream whose request started at `startMs` (performance.now clock); the last one's measurements are dropped. */
  start(startMs: number): void {
    this.startMs = startMs;
    this.dataEvents = 0;
    this.errorSeen = false;
    this.bomAt = 0;
    this.skipLf = false;
    this.partial.clear();
    this.clearEvent();
    this.pending = true;
    this.gapCount = 0;
    this.silenceMs = -1;
  }

  /** One chunk of the body, arrived at `nowMs`. */
  push(chunk: Buffer, nowMs: number): void {
    const n = chunk.length;
    let i = 0;
    while (this.bomAt < 3 && i < n) {
      if (chunk[i] === BOM[this.bomAt]) {
        this.bomAt++;
        i++;
      } else {
        // No BOM after all: what looked like its start opens the first line.
        this.partial.append(BOM, 0, this.bomAt);
        this.bomAt = 3;
      }
    }
    if (i === n) return; // an empty chunk leaves skipLf as it was
    if (this.skipLf) {
      this.skipLf = false;
      if (chunk[i] === LF) i++;
    }
    let start = i;
    // Lines end with LF mostly: without a CR in the chunk, the next line end is one native search away.
    const lfOnly = !chunk.includes(CR, i);
    // Where `"error"` next occurs in the chunk (-1: nowhere): one search per chunk, not one per line,
    // since a multi-byte search costs about as much to start as to run over a whole line.
    let errorAt = chunk.indexOf(ERROR_KEY, i);
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
      if (this.partial.length === 0) {
        if (errorAt !== -1 && errorAt < start) errorAt = chunk.indexOf(ERROR_KEY, start);
        this.line(chunk, start, i, false, errorAt !== -1 && errorAt + ERROR_KEY.length <= i, nowMs);
      } else {
        this.partial.append(chunk, start, i);
        const kept = this.partial.buf.subarray(0, this.partial.length);
        this.line(this.partial.buf, 0, this.partial.length, this.partial.over, kept.includes(ERROR_KEY), nowMs);
        this.partial.clear();
      }
      if (byte === CR) {
        if (i + 1 === n) this.skipLf = true;
        else if (chunk[i + 1] === LF) i++;
      }
      start = ++i;
    }
    if (start < n) this.partial.append(chunk, start, n);
  }

  /**
   * The body ended at `nowMs`, whole or `cut` (a socket or body error, a timeout): a cut after a data
   * event adds the silence since it to the gaps. What was kept of an unfinished line or event is dropped.
   */
  end(nowMs: number, cut: boolean): void {
    if (cut) this.lastSilence(nowMs);
    this.partial.clear(true);
    this.data.clear(true);
    this.clearEvent();
    this.skipLf = false;
  }

  /** Tells `sink` the stream's measurements, once; nothing when no stream started since the last commit. */
  commit(sink: StreamSink): void {
    if (!this.pending) return;
    this.pending = false;
    sink.recordStream();
    if (this.dataEvents > 0) sink.recordFirstEvent(this.ttftMs);
    for (let i = 0; i < this.gapCount; i++) sink.recordNextEvent(this.gaps[i]!);
    if (this.silenceMs >= 0) sink.recordFinalSilence(this.silenceMs);
  }

  /** Forgets the stream's measurements (its request is not counted, or its attempt was replaced). */
  discard(): void {
    this.pending = false;
  }

  /** One line of `buf` from `start` to `end`; `quotesError`: it contains `"error"` (within what is kept). */
  private line(buf: Buffer, start: number, end: number, over: boolean, quotesError: boolean, nowMs: number): void {
    if (start === end && !over) {
      this.dispatch(nowMs);
      return;
    }
    if (end - start > SSE_KEEP_BYTES) {
      end = start + SSE_KEEP_BYTES;
      over = true;
    }
    if (buf[start] === COLON) return;
    if (isField(buf, start, end, DATA)) {
      const value = valueStart(buf, start + 4, end);
      if (this.hasData) this.data.append(NEWLINE, 0, 1);
      this.hasData = true;
      this.data.append(buf, value, end);
      if (over) this.data.over = true;
      if (quotesError) this.maybeError = true;
    } else if (isField(buf, start, end, EVENT)) {
      const value = valueStart(buf, start + 5, end);
      this.namedError = !over && end - value === ERROR.length && ERROR.equals(buf.subarray(value, end));
    }
  }

  private dispatch(nowMs: number): void {
    if (this.namedError || (this.maybeError && (this.data.over ? ERROR_PREFIX.test(this.data.text()) : isErrorJson(this.data.text())))) {
      this.errorSeen = true;
      this.lastSilence(nowMs);
    } else if (this.hasData) {
      if (this.dataEvents++ === 0) this.ttftMs = nowMs - this.startMs;
      else this.addGap(nowMs - this.lastEventAt);
      this.lastEventAt = nowMs;
    }
    this.clearEvent();
  }

  /** The stream ends in an error event or a cut at `nowMs`: the silence since its last data event, once. */
  private lastSilence(nowMs: number): void {
    if (this.pending && this.dataEvents > 0 && this.silenceMs < 0) this.silenceMs = nowMs - this.lastEventAt;
  }

  private addGap(gapMs: number): void {
    if (this.gapCount === this.gaps.length) {
      const grown = new Float64Array(2 * this.gaps.length);
      grown.set(this.gaps);
      this.gaps = grown;
    }
    this.gaps[this.gapCount++] = gapMs;
  }

  private clearEvent(): void {
    this.hasData = false;
    this.namedError = false;
    this.maybeError = false;
    this.data.clear();
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

/** The event's data is a JSON object with a non-null `error`, or with type "error". */
function isErrorJson(text: string): boolean {
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
