/**
 * How resil writes a measured value in every report (terminal, JUnit, step summary, HTML, comparison,
 * campaign table): one function per kind of value (durations, counts, ratios, rates, factors), so the
 * same figure reads the same everywhere. A threshold metric's value is written by its kind through
 * formatMetric in src/thresholds/metrics.ts.
 */

/** What a report shows for a figure with nothing measured. */
export const NO_DATA = 'no data';

/** A millisecond figure: 0.850ms, 2.50ms, 12.3ms, 1.52s, 2m05s; '-' when not finite. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms === 0) return '0ms';
  if (ms < 1) return `${ms.toFixed(3)}ms`;
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 1000) return `${ms.toFixed(1)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  // Whole seconds first, so 119.7 s is 2m00s, not 1m60s.
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** A count or an average of counts, with thousands separators and at most one decimal: 12,345.6. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

/** A ratio 0..1 as a percent with two decimals: 0.97 → 97.00%. */
export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`;
}

/** A ratio, or NO_DATA for null (a run with no request). */
export function formatPercentOrNone(ratio: number | null): string {
  return ratio === null ? NO_DATA : formatPercent(ratio);
}

/** Something per second: 480/s. */
export function formatRate(perSecond: number): string {
  return `${formatCount(perSecond)}/s`;
}

/** Bytes in decimal units, as Toxiproxy's rates are: 950 B, 12.3 kB, 4.56 MB, 1.2 GB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const [value, unit] = bytes < 1e6 ? [bytes / 1e3, 'kB'] : bytes < 1e9 ? [bytes / 1e6, 'MB'] : [bytes / 1e9, 'GB'];
  return `${value.toPrecision(3).replace(/\.?0+$/, '')} ${unit}`;
}

/** A plain factor with two decimals, then its unit when it has one: 1.50, 1.50 calls/request. */
export function formatFactor(value: number, unit?: string): string {
  return unit ? `${value.toFixed(2)} ${unit}` : value.toFixed(2);
}
