/** Headers whose values are secrets: never printed, stored or logged. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key']);
/** Query parameters that carry credentials. */
const SECRET_QUERY_PARAMS = new Set(['key', 'token', 'api_key', 'apikey', 'access_token', 'auth', 'password', 'secret']);

export const REDACTED = '[redacted]';

export function isSecretHeader(name: string, extra: ReadonlySet<string> = EMPTY): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADERS.has(lower) || extra.has(lower);
}
const EMPTY: ReadonlySet<string> = new Set();

/** A URL fit for output: no userinfo, secret query values replaced. Unparseable text is dropped. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '[invalid url]';
  }
  url.username = '';
  url.password = '';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_QUERY_PARAMS.has(name.toLowerCase())) url.searchParams.set(name, REDACTED);
  }
  return url.toString();
}

/** Header list fit for output: secret values replaced, names kept so the user sees what was sent. */
export function redactHeaders(headers: ReadonlyArray<readonly [string, string]>, extra?: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) out[name] = isSecretHeader(name, extra) ? REDACTED : value;
  return out;
}

/** Removes every occurrence of the given secret strings from a message (error texts can echo input). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  return out;
}
