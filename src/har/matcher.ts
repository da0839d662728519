/**
 * Finds the recorded exchange for a live request during replay.
 *
 * A request matches a recording when, in this order:
 *   1. method (case-insensitive) and path are equal;
 *   2. the query has the same parameters, in any order (values percent-decoded; a recording's
 *      redacted secret parameter, e.g. key=[redacted], matches any value of that parameter);
 *   3. the bodies are equal: when both parse as JSON, after normalisation (object keys sorted, every
 *      field named in ignoreJsonFields removed at any depth); otherwise byte for byte. GET and HEAD
 *      ignore bodies.
 * Several recordings of the same request are served in turn, cycling.
 */
import { createHash } from 'node:crypto';
import { REDACTED } from '../util/redact.js';
import { decodeQueryComponent, isSecretQueryParam, rawQueryPairs, splitPathQuery, type ReplayEntry } from './har.js';

const BODYLESS = new Set(['GET', 'HEAD']);

interface Candidates {
  entries: ReplayEntry[];
  next: number;
}

export class ReplayMatcher {
  private readonly byKey = new Map<string, Candidates>();
  private readonly recorded: Array<{ method: string; path: string }> = [];
  private readonly ignore: ReadonlySet<string>;

  constructor(entries: readonly ReplayEntry[], options: { ignoreJsonFields?: readonly string[] } = {}) {
    this.ignore = new Set(options.ignoreJsonFields ?? []);
    const seen = new Set<string>();
    for (const entry of entries) {
      const method = entry.method.toUpperCase();
      const key = this.key(method, entry.path, entry.query, entry.requestBody);
      const candidates = this.byKey.get(key);
      if (candidates) candidates.entries.push(entry);
      else this.byKey.set(key, { entries: [entry], next: 0 });
      const request = `${method} ${entry.path}`;
      if (!seen.has(request)) {
        seen.add(request);
        this.recorded.push({ method, path: entry.path });
      }
    }
  }

  /** The next recording for this request (several recordings of the same request are served in turn, cycling), or null. */
  match(method: string, pathWithQuery: string, body: Buffer): ReplayEntry | null {
    const { path, query } = splitPathQuery(pathWithQuery);
    const candidates = this.byKey.get(this.key(method.toUpperCase(), path, query, body));
    if (!candidates) return null;
    const entry = candidates.entries[candidates.next % candidates.entries.length]!;
    candidates.next = (candidates.next + 1) % candidates.entries.length;
    return entry;
  }

  /** For a 501: the recorded request closest to this one ('POST /v1/chat'), or null when there are none. */
  nearest(method: string, pathWithQuery: string): string | null {
    const upper = method.toUpperCase();
    const { path } = splitPathQuery(pathWithQuery);
    let best: { method: string; path: string } | null = null;
    let bestScore: number[] = [];
    for (const candidate of this.recorded) {
      const score = [
        candidate.method === upper ? 1 : 0,
        commonSegments(candidate.path, path),
        commonPrefix(candidate.path, path),
        -Math.abs(candidate.path.length - path.length),
      ];
      if (best === null || compareScores(score, bestScore) > 0) {
        best = candidate;
        bestScore = score;
      }
    }
    return best === null ? null : `${best.method} ${best.path}`;
  }

  private key(method: string, path: string, query: string, body: Buffer): string {
    return JSON.stringify([method, path, normaliseQuery(query), BODYLESS.has(method) ? '' : this.bodyKey(body)]);
  }

  private bodyKey(body: Buffer): string {
    const hash = createHash('sha256');
    const json = parseJson(body);
    if (json.ok) hash.update('json:').update(canonicalJson(json.value, this.ignore));
    else hash.update('bytes:').update(body);
    return hash.digest('base64');
  }
}

/** Parameters decoded and sorted; secret parameters' values are REDACTED on both sides (recordings hold no secrets). */
export function normaliseQuery(query: string): string[] {
  return rawQueryPairs(query)
    .map(([rawName, rawValue]) => {
      const name = decodeQueryComponent(rawName);
      const value = rawValue === undefined ? '' : isSecretQueryParam(rawName) ? REDACTED : decodeQueryComponent(rawValue);
      return JSON.stringify([name, value]);
    })
    .sort();
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (body.length === 0) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

/** JSON text with object keys sorted and ignored fields removed at any depth. */
export function canonicalJson(value: unknown, ignore: ReadonlySet<string> = new Set()): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item, ignore)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value)
      .filter((key) => !ignore.has(key))
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key], ignore)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function commonSegments(a: string, b: string): number {
  const sa = a.split('/');
  const sb = b.split('/');
  let i = 0;
  while (i < sa.length && i < sb.length && sa[i] === sb[i]) i++;
  return i;
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
