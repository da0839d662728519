import { UsageError } from '../errors.js';
import { redactUrlText } from './redact.js';

/**
 * A target or upstream URL as the user typed it: http or https, with a clear message for a missing
 * scheme ('localhost:8080/x') or text that is not a URL. Used by the load plan, the proxy and `init`.
 */
export function parseTargetUrl(text: string | undefined): URL {
  if (text === undefined || text.trim() === '') throw new UsageError('a target URL is required, e.g. http://127.0.0.1:8080/');
  let url: URL;
  // 'localhost:8080/x' parses as a URL of scheme 'localhost:'; '127.0.0.1:8080' does not parse at all.
  if (/^[A-Za-z0-9.-]+:\d+(?:[/?#]|$)/.test(text.trim())) {
    throw new UsageError(`'${redactUrlText(text)}' has no scheme: did you mean 'http://${redactUrlText(text.trim())}'?`);
  }
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`'${redactUrlText(text)}' is not a URL (expected e.g. http://127.0.0.1:8080/path)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`'${url.protocol}' URLs are not supported: use http:// or https://`);
  }
  return url;
}
