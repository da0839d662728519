// Small helpers shared by the benchmark scripts.

/** A positive integer from the environment variable `name`, or `fallback` when unset. */
export function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** The median of the finite numbers among `values`, or null when there are none. */
export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `value` with `digits` decimals, or 'n/a' when it is not a finite number. */
export function fixed(value, digits) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Sends `signal` to a child process that may already be gone. */
export function killQuietly(child, signal) {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}
