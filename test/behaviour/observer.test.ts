import { decodeHistogram } from '../../src/metrics/histogram.js';
import { BehaviourObserver } from '../../src/behaviour/observer.js';
import { failed, observed } from '../helpers/observed.js';

function observer(longestRetryAfterMs = 1000): BehaviourObserver {
  return new BehaviourObserver({ correlate: { mode: 'auto' }, longestRetryAfterMs });
}

/** min, p50 and max of an encoded histogram. */
function values(encoded: string | null): number[] {
  if (encoded === null) return [];
  const histogram = decodeHistogram(encoded);
  return [histogram.minNonZeroValue, histogram.getValueAtPercentile(50), histogram.maxValue];
}

test('a request failed twice then answered: 3 attempts, 2 retries with their delays, a success folds at once', () => {
  const o = observer();
  o.record(failed('r1', 0, 503));
  o.record(failed('r1', 101, 503));
  o.record(observed('r1', 302));
  expect(o.openRequests).toBe(0);
  o.record(observed('r2', 400));
  const doc = o.document(1000);
  expect(doc.overall).toMatchObject({ calls: 4, requests: 2, attempts: { '1': 1, '3': 1 }, retries: 2 });
  expect(doc.providers.a).toMatchObject({ calls: 4, requests: 2, retries: 2 });
  // HDR histograms keep 3 significant digits: each value within 0.1%.
  const [min, p50, max] = values(doc.overall.retryDelay);
  expect(Math.abs(min! / 100_000 - 1)).toBeLessThan(0.001);
  expect(Math.abs(p50! / 100_000 - 1)).toBeLessThan(0.001);
  expect(Math.abs(max! / 200_000 - 1)).toBeLessThan(0.001);
  expect(doc.overall.series.calls.slice(0, 5)).toEqual([1, 1, 0, 1, 1]);
  expect(doc.overall.series.failed.slice(0, 5)).toEqual([1, 1, 0, 0, 0]);
  expect(doc.overall.series.calls).toHaveLength(10);
});
