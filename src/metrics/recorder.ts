import { addEncoded, createLatencyHistogram, decodeHistogram, encodeHistogram, toMicros, type Histogram } from './histogram.js';
import { ERROR_CLASSES, ERROR_INDEX, type ErrorClass } from './outcome.js';
import { TIMELINE_BUCKETS, type RecorderSnapshot, type StreamSnapshot, type TimelineSecond } from './snapshot.js';

/** Called as each second closes, with that second alone and how much of it the run covered (ms: 1000, less for the last). */
export type SecondListener = (second: TimelineSecond, lengthMs: number) => void;

/**
 * Counts and latencies of one executor, in constant memory per second of run time:
 * plain number counters, typed arrays indexed by status code, and HDR histograms (microseconds).
 * Every request ends in exactly one of: ok, or failed with one error class (`status:NNN` for an
 * unexpected status). Requests abandoned at stop are `cancelled`, outside the total; requests of
 * the open model's schedule that were due but never sent are `dropped`, also outside it.
 */
export class Recorder {
  total = 0;
  ok = 0;
  cancelled = 0;
  dropped = 0;
  lateStarts = 0;
  /** Open model: the most connections in use at once, and requests that found all of them busy at --max-connections when due. */
  peakConnections = 0;
  waitedForConnection = 0;
  /** Complete responses by status code (including those a body check then failed). */
  private readonly statusCounts = new Float64Array(1000);
  /** Failures by unexpected status code. */
  private readonly unexpectedStatus = new Float64Array(1000);
  private readonly errorCounts = new Float64Array(ERROR_CLASSES.length);
  /**
   * Latency of complete responses (from the scheduled send time in the open model). Each response is
   * recorded once, into the current second's histogram, which is added in here when the second closes.
   */
  readonly latency: Histogram = createLatencyHistogram();
  /** From the actual send time; only kept apart in the open model, where it can differ. */
  readonly serviceTime: Histogram | null;
  /**
   * Server-sent-events answers (content-type text/event-stream; one per request at most: in policy mode
   * the final attempt's; none for a cancelled request) and their data events; time to the first data
   * event from the request's start, like latency (ttft), and between consecutive data events of one
   * stream, or from the last one to the error event or the cut that ended it (gap: the silences the
   * caller saw mid-answer). The histograms are made at the first stream.
   */
  streams = 0;
  dataEvents = 0;
  private ttft: Histogram | null = null;
  private eventGap: Histogram | null = null;

  private second = 0;
  private secondRequests = 0;
  private secondOk = 0;
  private readonly secondLatency: Histogram = createLatencyHistogram();
  /** At most TIMELINE_BUCKETS buckets of `span` seconds each: the span doubles (pairs merge) when they are full. */
  private readonly timeline: TimelineSecond[] = [];
  private span = 1;

  /** Live thresholds: told of each second as it closes (the engine sets it before the run). */
  onSecond: SecondListener | undefined;

  /** @param startMs run start on this thread's performance.now() clock */
  constructor(
    private readonly startMs: number,
    separateServiceTime: boolean,
  ) {
    this.serviceTime = separateServiceTime ? createLatencyHistogram() : null;
  }

  /**
   * A complete response. `passed` is false when its status or a body check failed, or (`streamFailed`,
   * its status passed) it was a stream that carried an error event: counted as `body` or `stream`.
   */
  recordResponse(
    nowMs: number,
    latencyMs: number,
    serviceMs: number,
    status: number,
    passed: boolean,
    bodyFailed: boolean,
    streamFailed = false,
  ): void {
    this.advance(nowMs);
    this.total++;
    this.secondRequests++;
    this.statusCounts[status]!++;
    this.secondLatency.recordValue(toMicros(latencyMs));
    if (this.serviceTime !== null) this.serviceTime.recordValue(toMicros(serviceMs));
    if (passed) {
      this.ok++;
      this.secondOk++;
    } else if (bodyFailed) {
      this.errorCounts[ERROR_INDEX.body]!++;
    } else if (streamFailed) {
      this.errorCounts[ERROR_INDEX.stream]!++;
    } else {
      this.unexpectedStatus[status]!++;
    }
  }

  /** A stream began (StreamSink, src/engine/stream.ts). */
  recordStream(): void {
    this.streams++;
    if (this.ttft === null) {
      this.ttft = createLatencyHistogram();
      this.eventGap = createLatencyHistogram();
    }
  }

  recordFirstEvent(ttftMs: number): void {
    this.dataEvents++;
    this.ttft!.recordValue(toMicros(ttftMs));
  }

  recordNextEvent(gapMs: number): void {
    this.dataEvents++;
    this.eventGap!.recordValue(toMicros(gapMs));
  }

  recordFinalSilence(gapMs: number): void {
    this.eventGap!.recordValue(toMicros(gapMs));
  }

  /** A request that got no usable response. */
  recordError(nowMs: number, errorClass: ErrorClass): void {
    this.advance(nowMs);
    this.total++;
    this.secondRequests++;
    this.errorCounts[ERROR_INDEX[errorClass]]!++;
  }

  get failed(): number {
    return this.total - this.ok;
  }

  get responses(): number {
    let sum = 0;
    for (let i = 0; i < 1000; i++) sum += this.statusCounts[i]!;
    return sum;
  }

  errorCount(errorClass: ErrorClass): number {
    return this.errorCounts[ERROR_INDEX[errorClass]]!;
  }

  /** Counts so far, for live metrics (cheap: no histogram work but one encoding of the closed seconds). */
  live(): {
    total: number;
    ok: number;
    failed: number;
    dropped: number;
    statusCodes: Record<string, number>;
    errors: Record<string, number>;
    latency: string | null;
    streams?: StreamSnapshot;
  } {
    const { statusCodes, errors } = this.counts();
    const streams = this.streamSnapshot();
    return {
      total: this.total,
      ok: this.ok,
      failed: this.failed,
      dropped: this.dropped,
      statusCodes,
      errors,
      latency: this.latency.totalCount > 0 ? encodeHistogram(this.latency) : null,
      ...(streams ? { streams } : {}),
    };
  }

  /** Closes the seconds that ended before `nowMs` (a timer calls it, so quiet seconds close on time too). */
  tick(nowMs: number): void {
    this.advance(nowMs);
  }

  /** Closes every timeline second up to `nowMs`; call once when the run ends. */
  finish(nowMs: number): void {
    this.advance(nowMs);
    this.closeSecond(Math.min(1000, Math.max(0, nowMs - this.startMs - this.second * 1000)));
  }

  snapshot(): RecorderSnapshot {
    const { statusCodes, errors } = this.counts();
    const streams = this.streamSnapshot();
    return {
      total: this.total,
      ok: this.ok,
      cancelled: this.cancelled,
      dropped: this.dropped,
      lateStarts: this.lateStarts,
      peakConnections: this.peakConnections,
      waitedForConnection: this.waitedForConnection,
      statusCodes,
      errors,
      latency: encodeHistogram(this.latency),
      serviceTime: this.serviceTime === null ? null : encodeHistogram(this.serviceTime),
      timeline: this.timeline.slice(),
      ...(streams ? { streams } : {}),
    };
  }

  /** The streams so far, or undefined before the first. */
  private streamSnapshot(): StreamSnapshot | undefined {
    if (this.ttft === null) return undefined;
    return {
      streams: this.streams,
      dataEvents: this.dataEvents,
      ttft: encodeHistogram(this.ttft),
      eventGap: encodeHistogram(this.eventGap!),
    };
  }

  private counts(): { statusCodes: Record<string, number>; errors: Record<string, number> } {
    const statusCodes: Record<string, number> = {};
    const errors: Record<string, number> = {};
    for (let code = 0; code < 1000; code++) {
      if (this.statusCounts[code]! > 0) statusCodes[String(code)] = this.statusCounts[code]!;
      if (this.unexpectedStatus[code]! > 0) errors[`status:${code}`] = this.unexpectedStatus[code]!;
    }
    ERROR_CLASSES.forEach((name, i) => {
      if (this.errorCounts[i]! > 0) errors[name] = this.errorCounts[i]!;
    });
    return { statusCodes, errors };
  }

  private advance(nowMs: number): void {
    const second = Math.floor((nowMs - this.startMs) / 1000);
    while (this.second < second) {
      this.closeSecond();
      this.second++;
    }
  }

  private closeSecond(lengthMs = 1000): void {
    const entry: TimelineSecond = { t: this.second, requests: this.secondRequests, ok: this.secondOk, histogram: null };
    if (this.secondLatency.totalCount > 0) {
      entry.histogram = encodeHistogram(this.secondLatency);
      this.latency.add(this.secondLatency);
      this.secondLatency.reset();
    }
    this.onSecond?.(entry, lengthMs);
    this.addToTimeline(entry);
    this.secondRequests = 0;
    this.secondOk = 0;
  }

  /** Into the bucket that covers the second (finish() may close the current second once more: its counts add). */
  private addToTimeline(entry: TimelineSecond): void {
    let last = this.timeline[this.timeline.length - 1];
    if (last === undefined || entry.t >= last.t + this.span) {
      if (this.timeline.length === TIMELINE_BUCKETS) {
        coarsen(this.timeline, this.span);
        this.span *= 2;
        last = this.timeline[this.timeline.length - 1]!;
      }
    }
    if (last !== undefined && entry.t < last.t + this.span) {
      addInto(last, entry);
      return;
    }
    const t = entry.t - (entry.t % this.span);
    this.timeline.push(this.span === 1 ? entry : { ...entry, t, span: this.span });
  }
}

/** Merges each pair of buckets of `span` seconds into one of twice the span, in place. */
function coarsen(timeline: TimelineSecond[], span: number): void {
  const merged: TimelineSecond[] = [];
  for (const bucket of timeline) {
    const t = bucket.t - (bucket.t % (span * 2));
    const last = merged[merged.length - 1];
    if (last !== undefined && last.t === t) addInto(last, bucket);
    else merged.push({ t, span: span * 2, requests: bucket.requests, ok: bucket.ok, histogram: bucket.histogram });
  }
  timeline.splice(0, timeline.length, ...merged);
}

/** Adds a second's (or bucket's) counts and latencies into a bucket. */
function addInto(bucket: TimelineSecond, from: TimelineSecond): void {
  bucket.requests += from.requests;
  bucket.ok += from.ok;
  if (from.histogram === null) return;
  if (bucket.histogram === null) {
    bucket.histogram = from.histogram;
    return;
  }
  const histogram = decodeHistogram(bucket.histogram);
  addEncoded(histogram, from.histogram);
  bucket.histogram = encodeHistogram(histogram);
  histogram.destroy();
}
