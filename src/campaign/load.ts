import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Scalar } from 'yaml';
import { escapeControl, UsageError } from '../errors.js';
import { campaignWording, OptionError } from '../util/option-table.js';
import { scrubSecrets } from '../util/redact.js';
import { formatPath, pathKey, type CheckContext, type Raw, type Segment } from './check-context.js';
import { checkSemantics } from './checks.js';
import { buildCampaign } from './mapping.js';
import { keyText, parseYaml, readCampaignText } from './read.js';
import { getValidator, reportSchemaError } from './schema-errors.js';
import type { Campaign } from './schema.js';
import { substituteVariables, type Substitution } from './substitute.js';
/**
 * Reads and validates a campaign file. Every problem (YAML syntax, unset ${VAR}, schema, semantic)
 * is collected and thrown as one UsageError, one `FILE:LINE:COL: PATH: message` per line.
 */
export function loadCampaign(path: string, env: NodeJS.ProcessEnv = process.env): Campaign {
  return parseCampaign(readCampaignText(path), path, env);
}

/** Parses campaign text; `fileName` is used in messages only. */
export function parseCampaign(text: string, fileName: string, env: NodeJS.ProcessEnv = process.env): Campaign {
  const { doc, lineCounter, syntaxErrors } = parseYaml(text);
  const ctx = new Context(fileName, doc, lineCounter);
  if (syntaxErrors.length > 0) {
    for (const error of syntaxErrors) ctx.addAt(error.offset, 'syntax error', error.message);
    ctx.throwIfAny();
  }
  const substituted = substituteVariables(doc.contents, text, env);
  ctx.substituted(substituted.substitutions, substituted.secrets);
  for (const { offset, path, message } of substituted.unset) {
    ctx.addAt(offset, formatPath(path), message);
    ctx.unresolved.add(pathKey(path));
    ctx.markReported(path);
  }
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
  Object.defineProperty(campaign, 'secrets', { value: substituted.secrets, enumerable: false });
  return campaign;
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

class Context implements CheckContext {
  private readonly problems: Array<{ offset: number; order: number; text: string }> = [];
  private readonly reported = new Set<string>();
  private substitutions: ReadonlyMap<Scalar, Substitution> = new Map();
  /** Every value taken from the environment anywhere in the file (and its pieces): never shown in any message. */
  private secrets: readonly string[] = [];
  /** Paths holding an unset ${VAR}: schema errors there follow from it and are not reported. */
  readonly unresolved = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** What ${VAR} substitution replaced: messages show the original text, never the values. */
  substituted(substitutions: ReadonlyMap<Scalar, Substitution>, secrets: readonly string[]): void {
    this.substitutions = substitutions;
    this.secrets = secrets;
  }

  /** A problem at the node of `path` (or its key, with atKey). */
  add(path: readonly Segment[], message: string, options: { atKey?: boolean; shownPath?: readonly Segment[] } = {}): void {
    const found = this.find(path);
    const offset = options.atKey && found.key?.range ? found.key.range[0] : found.offset;
    this.reported.add(pathKey(path));
    this.addAt(offset, formatPath(options.shownPath ?? path), message);
  }

  /** A problem at an offset; values substituted anywhere in the file are scrubbed from it. */
  addAt(offset: number, where: string, message: string): void {
    const { line, col } = this.lineCounter.linePos(offset);
    const text = escapeControl(scrubSecrets(`${where}: ${message}`, this.secrets));
    this.problems.push({ offset, order: this.problems.length, text: `${this.file}:${line}:${col}: ${text}` });
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
      let message = error instanceof OptionError ? campaignWording(error.table, error.problem) : error.message;
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
