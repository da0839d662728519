import { OptionError } from '../util/option-table.js';
import { LOAD_OPTIONS } from './options.js';

/**
 * What counts as success: an expected status set (default any 2xx), an optional body substring and
 * optional JSON path checks. Statuses are looked up in a 1000-entry table, so the common case costs
 * one array read per response.
 */
export interface SuccessChecks {
  statusAllowed: Uint8Array;
  expectBody?: string;
  expectJson: JsonCheck[];
  /** True when some check needs the response body; otherwise the body is discarded unread. */
  readsBody: boolean;
}

export interface JsonCheck {
  source: string;
  path: Array<string | number>;
  /** Absent: the path must exist. Present: the value there must equal it. */
  expected?: unknown;
}

/** Parses '200,201,3xx' into a status table. */
export function parseExpectStatus(text: string | undefined): Uint8Array {
  const allowed = new Uint8Array(1000);
  const spec = text === undefined || text.trim() === '' ? LOAD_OPTIONS.expectStatus.default : text;
  for (const raw of spec.split(',')) {
    const item = raw.trim().toLowerCase();
    const klass = /^([1-5])xx$/.exec(item);
    if (klass) {
      const base = Number(klass[1]) * 100;
      allowed.fill(1, base, base + 100);
    } else if (/^\d{3}$/.test(item) && Number(item) >= 100 && Number(item) <= 599) {
      allowed[Number(item)] = 1;
    } else {
      throw new OptionError(LOAD_OPTIONS, {
        field: 'expectStatus',
        message: `'${raw.trim()}' is not a status code (100-599) or a class like 2xx`,
      });
    }
  }
  return allowed;
}

/** Parses 'data.items[0].id=42' or 'result' (exists) into a JSON check. */
export function parseJsonCheck(source: string): JsonCheck {
  const eq = source.indexOf('=');
  const pathText = (eq === -1 ? source : source.slice(0, eq)).trim();
  if (pathText === '')
    throw new OptionError(LOAD_OPTIONS, { field: 'expectJson', value: source, message: "missing path (e.g. 'result' or 'data.id=42')" });
  const path: Array<string | number> = [];
  for (const segment of pathText.replace(/^\$\.?/, '').split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(segment);
    if (!match || (match[1] === '' && match[2] === '')) {
      throw new OptionError(LOAD_OPTIONS, { field: 'expectJson', value: source, message: `bad path segment '${segment}'` });
    }
    if (match[1] !== '') path.push(match[1]!);
    for (const index of match[2]!.matchAll(/\[(\d+)\]/g)) path.push(Number(index[1]));
  }
  if (eq === -1) return { source, path };
  const valueText = source.slice(eq + 1).trim();
  return { source, path, expected: parseExpectedValue(valueText) };
}

/** A JSON literal when the text is one (42, true, null, "x"); otherwise the text itself. */
function parseExpectedValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function buildChecks(options: { expectStatus?: string; expectBody?: string; expectJson?: readonly string[] }): SuccessChecks {
  const expectJson = (options.expectJson ?? []).map(parseJsonCheck);
  const checks: SuccessChecks = {
    statusAllowed: parseExpectStatus(options.expectStatus),
    expectJson,
    readsBody: options.expectBody !== undefined || expectJson.length > 0,
  };
  if (options.expectBody !== undefined) checks.expectBody = options.expectBody;
  return checks;
}

/** Runs the body checks on a complete body; true when all pass. */
export function bodyPasses(checks: SuccessChecks, body: Buffer): boolean {
  if (checks.expectBody !== undefined && !body.includes(checks.expectBody)) return false;
  if (checks.expectJson.length === 0) return true;
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    return false;
  }
  for (const check of checks.expectJson) {
    const found = lookup(document, check.path);
    if (!found.exists) return false;
    if ('expected' in check && !sameValue(found.value, check.expected)) return false;
  }
  return true;
}

function lookup(document: unknown, path: ReadonlyArray<string | number>): { exists: boolean; value?: unknown } {
  let node: unknown = document;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return { exists: false };
    const container = node as Record<string | number, unknown>;
    if (!Object.hasOwn(container, key)) return { exists: false };
    node = container[key];
  }
  return { exists: true, value: node };
}

function sameValue(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  // 'status=ok' written without quotes compares as text against a string value.
  if (typeof expected === 'string' || typeof actual === 'string') return String(actual) === String(expected);
  return JSON.stringify(actual) === JSON.stringify(expected);
}
