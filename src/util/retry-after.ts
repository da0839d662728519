/** A Retry-After value (RFC 9110 section 10.2.3), seconds or an HTTP date, in milliseconds from now; undefined when it is neither. */
export function parseRetryAfter(value: string): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
