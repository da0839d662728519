import { addStats, emptyStats, type ProxyStats } from '../../src/proxy/stats.js';

test('addStats adds every count and each fault by name (report --merge adds the shards of a chaos run so)', () => {
  const a: ProxyStats = {
    calls: 10,
    eligible: 8,
    considered: 6,
    expected: 3,
    passedThrough: 7,
    upstreamErrors: 1,
    rejected: 1,
    unmatched: 2,
    injected: { timeout: 2, 'status:503': 1 },
  };
  const b: ProxyStats = {
    calls: 5,
    eligible: 4,
    considered: 4,
    expected: 2,
    passedThrough: 3,
    upstreamErrors: 0,
    rejected: 2,
    unmatched: 1,
    injected: { 'status:503': 2, down: 1 },
  };
  const sum = emptyStats();
  addStats(sum, a);
  addStats(sum, b);
  expect(sum).toEqual({
    calls: 15,
    eligible: 12,
    considered: 10,
    expected: 5,
    passedThrough: 10,
    upstreamErrors: 1,
    rejected: 3,
    unmatched: 3,
    injected: { timeout: 2, 'status:503': 3, down: 1 },
  });
  // The inputs are left as they were.
  expect(a.injected).toEqual({ timeout: 2, 'status:503': 1 });
});

test('addStats: counts a result from an older resil does not have add 0', () => {
  // Results written before eligible, considered, expected and unmatched were counted.
  const old = { calls: 4, passedThrough: 4, injected: {}, upstreamErrors: 0, rejected: 0 } as unknown as ProxyStats;
  const sum = emptyStats();
  addStats(sum, old);
  expect(sum).toEqual({ ...emptyStats(), calls: 4, passedThrough: 4 });
});
