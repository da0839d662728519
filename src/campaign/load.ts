import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, Parser, Scalar, type Document, type Node } from 'yaml';
import { escapeControl, UsageError } from '../errors.js';
import { campaignWording, OptionError } from '../util/option-table.js';
import { checkSemantics } from './checks.js';
import { buildCampaign } from './mapping.js';
import { getValidator, reportSchemaError } from './schema-errors.js';
import type { Campaign } from './schema.js';

/**
 * Reads and validates a campaign file. Every problem (YAML syntax, unset ${VAR}, schema, semantic)
 * is collected and thrown as one UsageError, one `FILE:LINE:COL: PATH: message` per line.
 */
export function loadCampaign(path: string, env: NodeJS.ProcessEnv = process.env): Campaign {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`campaign file '${path}' not found`);
    throw new UsageError(`campaign file '${path}' cannot be read (${code ?? (error as Error).message})`);
  }
  return parseCampaign(text, path, env);
}

/** Parses campaign text; `fileName` is used in messages only. */
export function parseCampaign(text: string, fileName: string, env: NodeJS.ProcessEnv = process.env): Campaign {
  const lineCounter = new LineCounter();
  // logLevel 'error': problems are reported as ours, never as process warnings on stderr.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, keepSourceTokens: false, logLevel: 'error' });
  const ctx = new Context(text, fileName, doc, lineCounter);
  if (doc.errors.length > 0) {
    reportSyntaxErrors(ctx, text, doc.errors);
    ctx.throwIfAny();
  }
  substitute(ctx, doc.contents, [], env);
  let data: unknown;
  try {
    // Aliases: up to 1000 uses of one anchor (the yaml default, 100, refuses some honest files).
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    ctx.add([], `the document cannot be resolved: ${(error as Error).message}`);
    ctx.throwIfAny();
  }
  if (data === null || data === undefined) {
    ctx.add([], 'the campaign is empty: it needs at least scenarios');
    ctx.throwIfAny();
  }
  const validate = getValidator();
  if (!validate(data)) for (const error of validate.errors ?? []) reportSchemaError(ctx, error, data);
  const root = data as Raw;
  checkSemantics(ctx, root);
  ctx.throwIfAny();
  const campaign = buildCampaign(fileName, root);
  CAMPAIGN_SECRETS.set(campaign, ctx.allSubstitutedValues());
  return campaign;
}

/** Values a campaign took from the environment, so later messages about it can be scrubbed of them. */
const CAMPAIGN_SECRETS = new WeakMap<Campaign, string[]>();

export function substitutedValues(campaign: Campaign): readonly string[] {
  return CAMPAIGN_SECRETS.get(campaign) ?? [];
}

/**
 * Replaces every occurrence of the values, and of their longer parts (a message may quote a piece
 * of a value, e.g. one entry of a fault mix), by '***'.
 */
export function scrubValues(message: string, values: readonly string[]): string {
  const pieces = new Set<string>();
  for (const value of values) {
    if (value.length >= 3) pieces.add(value);
    for (const part of value.split(/[^A-Za-z0-9]+/)) if (part.length >= 6) pieces.add(part);
  }
  let out = message;
  for (const piece of [...pieces].sort((a, b) => b.length - a.length)) out = out.split(piece).join('***');
  return out;
}

function safeStringify(value: unknown): string {
  try {
    return String(JSON.stringify(value));
  } catch {
    return '[a value that refers to itself]';
  }
}

// ---------------------------------------------------------------------------------------------
// Positions and problems

type Segment = string | number;
type Raw = Record<string, unknown>;

interface Substitution {
  /** The scalar's text before ${VAR} was replaced: what messages show. */
  original: string;
  values: string[];
}

class Context {
  private readonly problems: Array<{ offset: number; order: number; text: string }> = [];
  private readonly reported = new Set<string>();
  readonly substitutions = new Map<Scalar, Substitution>();
  /** Paths holding an unset ${VAR}: schema errors there follow from it and are not reported. */
  readonly unresolved = new Set<string>();

  constructor(
    readonly sourceText: string,
    private readonly file: string,
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** A problem at the node of `path` (or its key, with atKey). Values substituted there are scrubbed from the message. */
  add(path: readonly Segment[], message: string, options: { atKey?: boolean; shownPath?: readonly Segment[] } = {}): void {
    const found = this.find(path);
    const offset = options.atKey && found.key?.range ? found.key.range[0] : found.offset;
    const substitution = isScalar(found.node) ? this.substitutions.get(found.node) : undefined;
    this.reported.add(pathKey(path));
    this.addAt(offset, formatPath(options.shownPath ?? path), substitution ? scrub(message, substitution) : message);
  }

  addAt(offset: number, where: string, message: string): void {
    const { line, col } = this.lineCounter.linePos(offset);
    const text = escapeControl(scrubValues(`${where}: ${message}`, this.allSubstitutedValues()));
    this.problems.push({ offset, order: this.problems.length, text: `${this.file}:${line}:${col}: ${text}` });
  }

  /** Every value taken from the environment anywhere in the file: never shown in any message. */
  allSubstitutedValues(): string[] {
    const values: string[] = [];
    for (const substitution of this.substitutions.values()) values.push(...substitution.values);
    return values;
  }

  markReported(path: readonly Segment[]): void {
    this.reported.add(pathKey(path));
  }

  /** True when a problem was already reported at exactly this path (so a later check stays quiet). */
  isReported(path: readonly Segment[]): boolean {
    return this.reported.has(pathKey(path));
  }

  /** The value at `path` as the user wrote it, quoted for messages (never a substituted value). */
  show(path: readonly Segment[], value: unknown): string {
    const { node } = this.find(path);
    const substitution = isScalar(node) ? this.substitutions.get(node) : undefined;
    const text = substitution ? substitution.original : typeof value === 'string' ? value : safeStringify(value);
    return `'${text.length > 60 ? `${text.slice(0, 57)}...` : text}'`;
  }

  /** Runs a check that throws UsageError; its message (an option's worded for the file, or less 'where:') becomes a problem at `path`. */
  attempt(path: readonly Segment[], fn: () => unknown, where?: string): boolean {
    try {
      fn();
      return true;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      let message = error instanceof OptionError ? campaignWording(error.problem) : error.message;
      if (where !== undefined && message.startsWith(`${where}: `)) message = message.slice(where.length + 2);
      this.add(path, message);
      return false;
    }
  }

  /** The YAML node at `path`, its key node (in a map), and the best offset to point at. */
  find(path: readonly Segment[]): { node: Node | undefined; key: Node | undefined; offset: number } {
    let node: unknown = this.doc.contents;
    let key: Node | undefined;
    let offset = rangeStart(node) ?? 0;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => keyText(item.key) === String(segment));
        if (!pair) break;
        key = pair.key as Node;
        node = pair.value;
        const emptyValue = isScalar(node) && node.value === null && node.range && node.range[0] === node.range[1];
        offset = (emptyValue ? undefined : rangeStart(node)) ?? rangeStart(key) ?? offset;
      } else if (isSeq(node)) {
        const item: unknown = node.items[Number(segment)];
        if (item === undefined) break;
        key = undefined;
        node = item;
        offset = rangeStart(node) ?? offset;
      } else {
        break;
      }
    }
    return { node: node as Node | undefined, key, offset };
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const sorted = [...this.problems].sort((a, b) => a.offset - b.offset || a.order - b.order);
    const lines = [...new Set(sorted.map((p) => p.text))];
    throw new UsageError(lines.join('\n'), { lines: true });
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : undefined;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function pathKey(path: readonly Segment[]): string {
  return JSON.stringify(path.map(String));
}

/** ['scenarios', 1, 'duration'] → 'scenarios[1].duration'. */
export function formatPath(path: readonly Segment[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function scrub(message: string, substitution: Substitution): string {
  let out = message;
  for (const value of [...substitution.values].sort((a, b) => b.length - a.length)) {
    if (value !== '') out = out.split(value).join('***');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// YAML syntax errors. The parser notices an unclosed bracket or quote where the text runs out of
// it (often the next key, or the end of the file); point at the opening character instead.

interface Opener {
  offset: number;
  char: string;
}

function reportSyntaxErrors(ctx: Context, text: string, errors: ReadonlyArray<{ pos: [number, number]; message: string }>): void {
  const openers = unclosedOpeners(text);
  const used = new Set<Opener>();
  for (const error of errors) {
    const offset = error.pos[0];
    const wanted = /^Flow sequence/.test(error.message) ? '[' : /^Flow map/.test(error.message) ? '{' : /^Missing closing (["'])/.exec(error.message)?.[1];
    const opener = wanted === undefined ? undefined : openers.filter((o) => o.char === wanted && o.offset <= offset && !used.has(o)).pop();
    if (opener) {
      used.add(opener);
      const closer = { '[': ']', '{': '}' }[opener.char] ?? opener.char;
      ctx.addAt(opener.offset, 'syntax error', `'${opener.char}' is never closed (expected '${closer}')`);
    } else {
      ctx.addAt(offset, 'syntax error', error.message);
    }
  }
}

/** Flow collections without their closing bracket, and quoted scalars without their closing quote. */
function unclosedOpeners(text: string): Opener[] {
  const found: Opener[] = [];
  const walk = (token: unknown): void => {
    if (Array.isArray(token)) {
      token.forEach(walk);
      return;
    }
    if (token === null || typeof token !== 'object') return;
    const t = token as { type?: string; offset?: number; source?: string; start?: { source?: string }; end?: Array<{ type: string }> };
    if (t.type === 'flow-collection' && t.start?.source && !(t.end ?? []).some((e) => e.type === 'flow-seq-end' || e.type === 'flow-map-end')) {
      found.push({ offset: t.offset ?? 0, char: t.start.source });
    }
    if ((t.type === 'double-quoted-scalar' || t.type === 'single-quoted-scalar') && t.source !== undefined) {
      const quote = t.source[0]!;
      if (t.source.length < 2 || !t.source.endsWith(quote)) found.push({ offset: t.offset ?? 0, char: quote });
    }
    for (const value of Object.values(token)) if (value !== null && typeof value === 'object') walk(value);
  };
  for (const token of new Parser().parse(text)) walk(token);
  return found.sort((a, b) => a.offset - b.offset);
}

// ---------------------------------------------------------------------------------------------
// ${VAR} substitution, on string values after parsing (so positions stay those of the file).

/** ${NAME}, or ${NAME:-default} (the default when NAME is unset or empty, as in the shell); $${NAME} is literal. */
const VARIABLE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function substitute(ctx: Context, node: unknown, path: Segment[], env: NodeJS.ProcessEnv): void {
  if (isMap(node)) {
    for (const pair of node.items) substitute(ctx, pair.value, [...path, keyText(pair.key)], env);
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => substitute(ctx, item, [...path, index], env));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
    const original = node.value;
    const values: string[] = [];
    const seen = new Map<string, number>();
    const result = original.replace(VARIABLE, (token, escaped: string | undefined, name: string, fallback: string | undefined) => {
      if (escaped) return token.slice(1); // $${VAR} is the literal text ${VAR}
      const set = env[name];
      if (fallback !== undefined && (set === undefined || set === '')) return fallback;
      const value = set;
      if (value === undefined) {
        const occurrence = seen.get(name) ?? 0;
        seen.set(name, occurrence + 1);
        ctx.addAt(variableOffset(ctx, node, `\${${name}}`, occurrence), formatPath(path), `environment variable '${name}' is not set (used as \${${name}})`);
        ctx.unresolved.add(pathKey(path));
        ctx.markReported(path);
        return token;
      }
      values.push(value);
      return value;
    });
    if (result === original) return;
    ctx.substitutions.set(node, { original, values });
    node.value = node.type === Scalar.PLAIN ? resolvePlain(result) : result;
  }
}

/** Offset of the n-th `${NAME}` in the scalar's source text (the scalar's start when not found). */
function variableOffset(ctx: Context, node: Scalar, token: string, occurrence: number): number {
  const [start, end] = node.range ?? [0, 0];
  const source = ctx.sourceText.slice(start, end);
  let index = -1;
  for (let i = 0; i <= occurrence; i++) {
    index = source.indexOf(token, index + 1);
    if (index === -1) return start;
  }
  return start + index;
}

/** A plain (unquoted) scalar is typed after substitution as YAML would have typed it: `concurrency: ${C}` is a number. */
function resolvePlain(text: string): string | number | boolean {
  if (/^[-+]?(?:\d+|\d*\.\d+|\d+\.\d*)(?:[eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (/^(?:true|True|TRUE)$/.test(text)) return true;
  if (/^(?:false|False|FALSE)$/.test(text)) return false;
  return text;
}
