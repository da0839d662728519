// Multipliers to milliseconds for the units a duration may carry.
const UNIT_MS: Record<string, number> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/y;

/**
 * Parses '500ms', '10s', '2m', '1m30s', '250us' into milliseconds.
 * Returns undefined when the text is not a duration; callers turn that into their own message.
 */
export function tryParseDuration(text: string): number | undefined {
  const source = text.trim();
  if (source === '') return undefined;
  if (/^0+(?:\.0+)?$/.test(source)) return 0; // zero needs no unit
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < source.length) {
    const start = DURATION_PART.lastIndex;
    const match = DURATION_PART.exec(source);
    if (!match || match.index !== start) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return Number.isFinite(total) ? total : undefined;
}
