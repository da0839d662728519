import { formatCount, formatFactor, formatMs, formatPercent, formatRate } from '../../src/util/format.js';

describe('formatMs: one way to write a duration in every report', () => {
  test.each([
    [0, '0ms'],
    [0.85, '0.850ms'],
    [2.5, '2.50ms'],
    [12.34, '12.3ms'],
    [1520, '1.52s'],
    [125_000, '2m05s'],
    // Whole seconds are rounded before the minutes are taken: never '1m60s'.
    [119_700, '2m00s'],
    [Number.NaN, '-'],
    [Number.POSITIVE_INFINITY, '-'],
  ])('%p ms → %p', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });
});

test('counts, ratios, rates and factors', () => {
  expect(formatCount(12345.67)).toBe('12,345.7');
  expect(formatPercent(0.97)).toBe('97.00%');
  expect(formatRate(480)).toBe('480/s');
  expect(formatFactor(1.5, 'calls/request')).toBe('1.50 calls/request');
  expect(formatFactor(1.5)).toBe('1.50');
});
