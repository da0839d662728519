/** Headers whose values are secrets: never printed, stored or logged. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key']);
/** Query parameters that carry credentials. */
const SECRET_QUERY_PARAMS = new Set(['key', 'token', 'api_key', 'apikey', 'access_token', 'auth', 'password', 'secret']);

export const REDACTED = '[redacted]';

/** True for a query parameter name that carries a credential ('token', 'api_key'...). */
export function isSecretQueryName(name: string): boolean {
  return SECRET_QUERY_PARAMS.has(name.toLowerCase());
}

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
    if (isSecretQueryName(name)) url.searchParams.set(name, REDACTED);
  }
  return url.toString();
}

/**
 * URL-like text fit for an error message, even when it does not parse: userinfo and token-like
 * query values are replaced by text rules.
 */
export function redactUrlText(text: string): string {
  return text
    .replace(/\/\/[^/?#@]*@/, `//${REDACTED}@`)
    .replace(/([?&;])([^=&;#]+)=([^&;#]*)/g, (whole, sep: string, name: string) =>
      isSecretQueryName(name) ? `${sep}${name}=${REDACTED}` : whole,
    );
}

/** Header list fit for output: secret values replaced, names kept so the user sees what was sent. */
export function redactHeaders(headers: ReadonlyArray<readonly [string, string]>, extra?: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) out[name] = isSecretHeader(name, extra) ? REDACTED : value;
  return out;
}

/**
 * Secret values the user handed in on the command line: values of secret headers (-H/--header, and
 * any header named by --redact) and URL passwords. Error messages are scrubbed of them.
 */
export function secretValuesFromArgv(argv: readonly string[]): string[] {
  const extra = new Set<string>();
  const headers: string[] = [];
  const secrets: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = inline ?? argv[i + 1];
    if ((flag === '-H' || flag === '--header') && value !== undefined) headers.push(value);
    else if (flag === '--redact' && value !== undefined) extra.add(value.toLowerCase());
    const password = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:([^/?#@]+)@/i.exec(arg);
    if (password) secrets.push(decodeURIComponent(password[1]!), password[1]!);
  }
  for (const header of headers) {
    const colon = header.indexOf(':');
    if (colon > 0 && isSecretHeader(header.slice(0, colon).trim(), extra)) {
      const value = header.slice(colon + 1).trim();
      secrets.push(value, ...value.split(/\s+/).filter((part) => part.length >= 8));
    }
  }
  return secrets;
}

/** Secrets shorter than this are left alone: scrubbing them would blank out ordinary words and numbers. */
const MIN_SECRET_LENGTH = 3;

/**
 * Text fit for output (error texts can echo input): every occurrence of each secret replaced by
 * [redacted], in one pass, the longest secret first (a secret that contains another goes whole).
 */
export function scrubSecrets(text: string, secrets: Iterable<string>): string {
  const wanted = [...new Set(secrets)].filter((secret) => secret.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  if (wanted.length === 0) return text;
  return text.replace(new RegExp(wanted.map((secret) => secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g'), REDACTED);
}

/**
 * A secret value and the pieces of it a message may quote alone (one entry of a fault mix, a token
 * inside a URL): its alphanumeric runs of 6 characters or more.
 */
export function secretPieces(value: string): string[] {
  return [value, ...value.split(/[^A-Za-z0-9]+/).filter((part) => part.length >= 6)];
}
