import { Recorder } from '../../src/metrics/recorder.js';
import { TIMELINE_BUCKETS, mergeSnapshots } from '../../src/metrics/snapshot.js';
import { computeRecovery } from '../../src/chaos/recovery.js';
import { UsageError } from '../../src/errors.js';
import { parseThreshold, thresholdText, withAbortOnFail } from '../../src/thresholds/parse.js';
import { ThresholdWatch, windowsOfTimeline } from '../../src/thresholds/watch.js';

/**
 * A run driven on a made-up clock through the real Recorder: `perSecond` requests each second,
 * failing in [outageFromS, outageToS), latency `latencyMs(t)`; the watch is fed as the recorder closes seconds.
 */
function simulate(options: {
  seconds: number;
  perSecond: number;
  outage?: [number, number];
  latencyMs?: (t: number) => number;
  thresholds: string[];
}): { recorder: Recorder; watch: ThresholdWatch; aborts: number[] } {
  const recorder = new Recorder(0, false);
  const watch = new ThresholdWatch(options.thresholds.map(parseThreshold));
  const aborts: number[] = [];
  recorder.onSecond = (second, lengthMs) => {
    if (watch.add({ ...second, lengthMs })) aborts.push(second.t);
  };
  const [from, to] = options.outage ?? [-1, -1];
  for (let t = 0; t < options.seconds; t++) {
    for (let i = 0; i < options.perSecond; i++) {
      const now = t * 1000 + (i * 1000) / options.perSecond;
      const failing = t >= from && t < to;
      recorder.recordResponse(now, options.latencyMs?.(t) ?? 5, 5, failing ? 503 : 200, !failing, false);
    }
  }
  recorder.finish(options.seconds * 1000);
  return { recorder, watch, aborts };
}

describe('threshold suffixes', () => {
  test.each([
    ['success_rate>=0.95 over 30s', { windowMs: 30_000 }],
    ['p99<300ms over 10s', { windowMs: 10_000, percentile: 99 }],
    ['p99<300ms abort', { abort: { afterMs: 0 } }],
    ['success_rate>=0.9 abort after 10s', { abort: { afterMs: 10_000 } }],
    ['error_rate<5% over 1m abort after 30s', { windowMs: 60_000, abort: { afterMs: 30_000 } }],
  ])('%s', (source, expected) => {
    const threshold = parseThreshold(source);
    expect(threshold).toMatchObject({ source, ...expected });
  });

  test.each([
    ['p99<300ms ovr 10s', "unexpected 'ovr' after the value: did you mean 'over'?"],
    ['p99<300ms abrt', "unexpected 'abrt' after the value: did you mean 'abort'?"],
    ['p99<300ms abort over 10s', "unexpected 'abort' after the value (after the value: 'over DURATION', then"],
    ['p99<300ms over 1500ms', "window '1500ms' must be whole seconds"],
    ['p99<300ms over 10', "'over 10' is not a duration"],
    ['p99<300ms over soon', "'over soon' is not a duration"],
    ['p99<300ms abort after later', "'after later' is not a duration"],
    ['recovery<5s over 10s', 'recovery cannot be judged over a window'],
    ['dependency_calls>0 abort', 'dependency_calls is judged at the end of the run only, so it cannot abort it'],
    ['p99==3ms over 10s', 'a window needs <, <=, > or >='],
  ])('%s is refused', (source, message) => {
    expect(() => parseThreshold(source)).toThrow(UsageError);
    expect(() => parseThreshold(source)).toThrow(message);
  });

  test('a campaign object becomes the one-line form', () => {
    expect(thresholdText({ expr: 'p99<300ms', abort: true, after: '10s' })).toBe('p99<300ms abort after 10s');
    expect(thresholdText({ expr: 'success_rate>=0.95', over: '30s' })).toBe('success_rate>=0.95 over 30s');
    expect(thresholdText('p99<1s')).toBe('p99<1s');
    expect(() => thresholdText({ expr: 'p99<1s', after: '10s' })).toThrow("'after' delays an abort: add 'abort: true'");
  });

  test('--abort-on-fail marks the per-second thresholds, keeping their own delay, and leaves the end-of-run ones', () => {
    const marked = withAbortOnFail(['p99<1s', 'success_rate>=0.9 abort after 5s', 'recovery<5s'].map(parseThreshold), true);
    expect(marked.map((t) => t.abort)).toEqual([{ afterMs: 0 }, { afterMs: 5000 }, undefined]);
  });
});

describe('rolling windows', () => {
  // The case at its own ratio: a 10 s outage inside a 2-minute run at a modest 20/s (exact, no sockets).
  test('a 10 s outage in 2 minutes: the whole run passes 90%, its worst 30 s window does not, and says when', () => {
    const { watch } = simulate({
      seconds: 120,
      perSecond: 20,
      outage: [50, 60],
      thresholds: ['success_rate>=0.9', 'success_rate>=0.9 over 30s'],
    });
    const windows = watch.finish();
    const worst = windows.get('success_rate>=0.9 over 30s')!;
    // Overall 110/120 = 91.7% passes; every 30 s window holding the outage is 20/30 = 66.7%, the first of them 30..60 s.
    expect(worst).toEqual({ value: 20 / 30, startMs: 30_000, endMs: 60_000 });
    expect(windows.has('success_rate>=0.9')).toBe(false);
  });

  test('latency windows are exact: the worst p99 window is the slow stretch, from per-second histograms', () => {
    const { watch } = simulate({
      seconds: 40,
      perSecond: 100,
      latencyMs: (t) => (t >= 20 && t < 25 ? 400 : 10),
      thresholds: ['p99<300ms over 10s', 'p50<300ms over 10s', 'max<1s over 5s', 'rps>=100 over 5s'],
    });
    const windows = watch.finish();
    // 5 slow seconds of 10: p99 and max of any window holding one are 400 ms (0.1% resolution); p50 stays at 10 ms.
    expect(windows.get('p99<300ms over 10s')!.value).toBeCloseTo(400, -1);
    expect(windows.get('p99<300ms over 10s')!.startMs).toBe(11_000);
    expect(windows.get('p50<300ms over 10s')!.value).toBeCloseTo(10, 0);
    expect(windows.get('rps>=100 over 5s')!.value).toBe(100);
  });

  test('a run shorter than its window is judged as one window', () => {
    const { watch } = simulate({ seconds: 5, perSecond: 10, outage: [0, 1], thresholds: ['success_rate>=0.95 over 30s'] });
    expect(watch.finish().get('success_rate>=0.95 over 30s')).toEqual({ value: 0.8, startMs: 0, endMs: 5000 });
  });

  test('the windows found again from the stored seconds equal those judged while the run went on', () => {
    const thresholds = ['success_rate>=0.9 over 7s', 'p99<300ms over 3s'];
    const { recorder, watch } = simulate({
      seconds: 30,
      perSecond: 50,
      outage: [12, 15],
      latencyMs: (t) => 5 + t,
      thresholds,
    });
    const live = watch.finish();
    const again = windowsOfTimeline(thresholds.map(parseThreshold), recorder.snapshot().timeline, 30_000);
    expect(again).toEqual(live);
  });
});

describe('abort', () => {
  test('stops at the first failing second after the delay, once', () => {
    const { watch, aborts } = simulate({
      seconds: 30,
      perSecond: 10,
      outage: [2, 30],
      thresholds: ['success_rate>=0.9 abort after 10s'],
    });
    // Failing since second 2 (cumulative 2/3 by then), judged only from 10 s: the second ending at 10 s.
    expect(aborts).toEqual([9]);
    expect(watch.abort).toMatchObject({ threshold: 'success_rate>=0.9 abort after 10s', atMs: 10_000, actual: 0.2 });
  });

  test('nothing measured yet is no failure', () => {
    const watch = new ThresholdWatch([parseThreshold('p99<1ms abort')]);
    expect(watch.add({ t: 0, requests: 0, ok: 0, histogram: null, lengthMs: 1000 })).toBeUndefined();
    expect(watch.failing).toEqual([]);
  });
});

describe('the timeline is bounded', () => {
  test(`a 4-hour run keeps at most ${TIMELINE_BUCKETS} buckets of 4 s, every request counted`, () => {
    const recorder = new Recorder(0, false);
    const seconds = 4 * 3600;
    for (let t = 0; t < seconds; t++) recorder.recordResponse(t * 1000 + 500, 5, 5, t % 100 === 0 ? 503 : 200, t % 100 !== 0, false);
    recorder.finish(seconds * 1000 - 1);
    const { timeline } = recorder.snapshot();
    expect(timeline.length).toBeLessThanOrEqual(TIMELINE_BUCKETS);
    expect(timeline.every((bucket) => bucket.span === 4 && bucket.t % 4 === 0)).toBe(true);
    expect(timeline.reduce((sum, b) => sum + b.requests, 0)).toBe(seconds);
    expect(timeline.reduce((sum, b) => sum + b.ok, 0)).toBe(seconds - seconds / 100);
  });

  test('a week at one request a minute stays under the bound (256 s buckets)', () => {
    const recorder = new Recorder(0, false);
    const seconds = 7 * 24 * 3600;
    for (let t = 0; t < seconds; t += 60) recorder.recordResponse(t * 1000, 5, 5, 200, true, false);
    recorder.finish(seconds * 1000);
    const { timeline } = recorder.snapshot();
    expect(timeline.length).toBeLessThanOrEqual(TIMELINE_BUCKETS);
    expect(timeline[0]!.span).toBe(256);
    expect(timeline.reduce((sum, b) => sum + b.requests, 0)).toBe(seconds / 60);
  });

  test('threads that coarsened apart merge on the coarser span; recovery reads the buckets', () => {
    const short = new Recorder(0, false);
    const long = new Recorder(0, false);
    for (let t = 0; t < TIMELINE_BUCKETS; t++) short.recordResponse(t * 1000, 5, 5, 200, true, false);
    for (let t = 0; t < TIMELINE_BUCKETS + 1; t++) long.recordResponse(t * 1000, 5, 5, 200, true, false);
    short.finish(TIMELINE_BUCKETS * 1000 - 1);
    long.finish((TIMELINE_BUCKETS + 1) * 1000 - 1);
    const merged = mergeSnapshots([short.snapshot(), long.snapshot()]).timeline;
    expect(merged.every((b) => b.span === 2)).toBe(true);
    expect(merged.reduce((sum, b) => sum + b.requests, 0)).toBe(2 * TIMELINE_BUCKETS + 1);
    // A fault window ending at 100 s: the first 2 s bucket from there is back at steady state.
    expect(computeRecovery(merged, [{ source: 'w', startMs: 50_000, endMs: 100_000 }])).toEqual([{ window: 'w', recoveryMs: 0 }]);
  });

  test('a run under an hour keeps one bucket per second, as before', () => {
    const recorder = new Recorder(0, false);
    for (let t = 0; t < 100; t++) recorder.recordResponse(t * 1000, 5, 5, 200, true, false);
    recorder.finish(100_000);
    const { timeline } = recorder.snapshot();
    expect(timeline.map((s) => s.t)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(timeline.some((s) => 'span' in s)).toBe(false);
  });
});
