import { computeRecovery, steadyState, worstRecoveryMs } from '../src/chaos/recovery.js';

// A scripted timeline: 100 requests a second; steady 99%, a fault window 3s..6s, slow recovery.
const timeline = [99, 99, 99, 40, 10, 10, 60, 90, 97, 99].map((ok, t) => ({ t, requests: 100, ok }));
const window = (source: string, startMs: number, endMs: number) => ({ source, startMs, endMs });

describe('recovery', () => {
  test('steady state is the success rate of the whole seconds before the first window', () => {
    expect(steadyState(timeline, 3000)).toBeCloseTo(0.99);
    // A window from 2.5 s: second 2 is not whole before it, so only seconds 0 and 1 count.
    expect(
      steadyState(
        [
          { t: 0, requests: 10, ok: 10 },
          { t: 1, requests: 10, ok: 8 },
          { t: 2, requests: 10, ok: 0 },
        ],
        2500,
      ),
    ).toBeCloseTo(0.9);
    // No second before the window: a healthy service is assumed.
    expect(steadyState(timeline, 0)).toBe(1);
  });

  test('recovery is from the window end to the first second back within 5 points', () => {
    // Window ends at 6 s; seconds 6 (60%) and 7 (90%) are below 94%; second 8 (97%) is back: 2 s.
    expect(computeRecovery(timeline, [window('3s..6s', 3000, 6000)])).toEqual([{ window: '3s..6s', recoveryMs: 2000 }]);
  });

  test('a window ending mid-second is measured from its end to the next whole second', () => {
    expect(computeRecovery(timeline, [window('3s..7500ms', 3000, 7500)])).toEqual([{ window: '3s..7500ms', recoveryMs: 500 }]);
  });

  test('a window that never recovers is null, and fails a recovery threshold', () => {
    const result = computeRecovery(timeline.slice(0, 8), [window('3s..6s', 3000, 6000)]);
    expect(result).toEqual([{ window: '3s..6s', recoveryMs: null }]);
    expect(worstRecoveryMs(result)).toBe(Number.POSITIVE_INFINITY);
  });

  test('seconds without requests say nothing and are skipped', () => {
    const gappy = [...timeline.slice(0, 7), { t: 7, requests: 0, ok: 0 }, { t: 8, requests: 100, ok: 99 }];
    expect(computeRecovery(gappy, [window('3s..6s', 3000, 6000)])).toEqual([{ window: '3s..6s', recoveryMs: 2000 }]);
  });

  test('several windows share the steady state before the first; the worst one is the verdict', () => {
    const result = computeRecovery(timeline, [window('3s..4s', 3000, 4000), window('5s..6s', 5000, 6000)]);
    expect(result).toEqual([
      { window: '3s..4s', recoveryMs: 4000 },
      { window: '5s..6s', recoveryMs: 2000 },
    ]);
    expect(worstRecoveryMs(result)).toBe(4000);
    expect(worstRecoveryMs([])).toBeNull();
  });
});
