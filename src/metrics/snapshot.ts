import { addEncoded, createLatencyHistogram, encodeHistogram } from './histogram.js';

/**
 * One second of the timeline, or on a long run a bucket of `span` seconds from second `t`; `histogram`
 * holds its latencies (encoded HDR), if any.
 */
export interface TimelineSecond {
  t: number;
  /** Seconds the bucket covers; absent: 1. */
  span?: number;
  requests: number;
  ok: number;
  histogram: string | null;
}

/**
 * The most buckets a timeline holds. Up to this many seconds every bucket is one second; beyond, pairs
 * merge and the span doubles: 2 s buckets up to 2 h, 8 s at 6 h, 256 s for a week. Bounded memory
 * and result size on a run of any length.
 */
export const TIMELINE_BUCKETS = 3600;

/** A request sent more than this long after its scheduled time is counted in `lateStarts` (ms). */
export const LATE_START_MS = 2;

/** Everything an executor measured, in a form that crosses threads and files and merges exactly. */
export interface RecorderSnapshot {
  total: number;
  ok: number;
  cancelled: number;
  /** Open model: due and never sent. */
  dropped: number;
  lateStarts: number;
  /**
   * Open model: the most connections in use at once per thread (merged by sum: the connections opened
   * in all), and the requests that found every connection busy at the thread's bound when due.
   */
  peakConnections: number;
  waitedForConnection: number;
  statusCodes: Record<string, number>;
  errors: Record<string, number>;
  /** Encoded HDR histograms (microseconds). */
  latency: string;
  serviceTime: string | null;
  timeline: TimelineSecond[];
  /** Extra counters of the executor (policy mode: attempts, retries, failovers...), merged by sum. */
  counters?: Record<string, number>;
  /** Server-sent-events answers, when any came: see Recorder.streams. */
  streams?: StreamSnapshot;
}

/** Streams seen, their data events, and encoded HDR histograms (µs) of ttft and of gaps between data events. */
export interface StreamSnapshot {
  streams: number;
  dataEvents: number;
  ttft: string;
  eventGap: string;
}

/** Merges snapshots (worker threads, later shards): counters add, histograms add, seconds align on t. */
export function mergeSnapshots(snapshots: readonly RecorderSnapshot[]): RecorderSnapshot {
  if (snapshots.length === 1) return snapshots[0]!;
  const latency = createLatencyHistogram();
  const serviceTime = snapshots.some((s) => s.serviceTime !== null) ? createLatencyHistogram() : null;
  const merged: RecorderSnapshot = {
    total: 0,
    ok: 0,
    cancelled: 0,
    dropped: 0,
    lateStarts: 0,
    peakConnections: 0,
    waitedForConnection: 0,
    statusCodes: {},
    errors: {},
    latency: '',
    serviceTime: null,
    timeline: [],
  };
  const seconds = new Map<number, { requests: number; ok: number; histogram: ReturnType<typeof createLatencyHistogram> | null }>();
  // Threads that ran about as long coarsen alike; one that did once more sets the span of all.
  const span = Math.max(1, ...snapshots.flatMap((s) => s.timeline.map((second) => second.span ?? 1)));
  for (const snapshot of snapshots) {
    merged.total += snapshot.total;
    merged.ok += snapshot.ok;
    merged.cancelled += snapshot.cancelled;
    merged.dropped += snapshot.dropped;
    merged.lateStarts += snapshot.lateStarts;
    merged.peakConnections += snapshot.peakConnections;
    merged.waitedForConnection += snapshot.waitedForConnection;
    addCounts(merged.statusCodes, snapshot.statusCodes);
    addCounts(merged.errors, snapshot.errors);
    if (snapshot.counters) addCounts((merged.counters ??= {}), snapshot.counters);
    addEncoded(latency, snapshot.latency);
    if (serviceTime !== null && snapshot.serviceTime !== null) addEncoded(serviceTime, snapshot.serviceTime);
    for (const second of snapshot.timeline) {
      const t = second.t - (second.t % span);
      let slot = seconds.get(t);
      if (!slot) {
        slot = { requests: 0, ok: 0, histogram: null };
        seconds.set(t, slot);
      }
      slot.requests += second.requests;
      slot.ok += second.ok;
      if (second.histogram !== null) {
        slot.histogram ??= createLatencyHistogram();
        addEncoded(slot.histogram, second.histogram);
      }
    }
  }
  merged.latency = encodeHistogram(latency);
  const streams = mergeStreams(snapshots.flatMap((s) => (s.streams ? [s.streams] : [])));
  if (streams) merged.streams = streams;
  merged.serviceTime = serviceTime === null ? null : encodeHistogram(serviceTime);
  const last = Math.max(-1, ...seconds.keys());
  for (let t = 0; t <= last; t += span) {
    const slot = seconds.get(t);
    merged.timeline.push({
      t,
      ...(span === 1 ? {} : { span }),
      requests: slot?.requests ?? 0,
      ok: slot?.ok ?? 0,
      histogram: slot?.histogram ? encodeHistogram(slot.histogram) : null,
    });
  }
  return merged;
}

/** Streams of several snapshots: counts add, histograms add; undefined when none saw a stream. */
export function mergeStreams(parts: readonly StreamSnapshot[]): StreamSnapshot | undefined {
  if (parts.length <= 1) return parts[0];
  const ttft = createLatencyHistogram();
  const eventGap = createLatencyHistogram();
  let streams = 0;
  let dataEvents = 0;
  for (const part of parts) {
    streams += part.streams;
    dataEvents += part.dataEvents;
    addEncoded(ttft, part.ttft);
    addEncoded(eventGap, part.eventGap);
  }
  const merged = { streams, dataEvents, ttft: encodeHistogram(ttft), eventGap: encodeHistogram(eventGap) };
  ttft.destroy();
  eventGap.destroy();
  return merged;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
}
