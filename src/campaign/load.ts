import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, Parser, Scalar, type Document, type Node } from 'yaml';
import { escapeControl, UsageError } from '../errors.js';
import { parseExpectStatus, parseJsonCheck } from '../engine/checks.js';
import { compileTemplate } from '../engine/template.js';
import { parseListen } from '../proxy/listen.js';
import { closestName } from '../util/suggest.js';
import { parseThreshold } from '../thresholds/parse.js';
import { chaosOnlyProblem } from '../thresholds/metrics.js';
import { tryParseDuration } from '../util/duration.js';
import {
  DURATION_PATTERN,
  ENV_NAME_PATTERN,
  HEADER_NAME_PATTERN,
  HTTP_URL_PATTERN,
  LATENCY_PATTERN,
  LISTEN_PATTERN,
  METHOD_PATTERN,
  NAME_PATTERN,
  WINDOW_PATTERN,
} from '../util/schema-patterns.js';
import { LOAD_OPTIONS } from '../engine/options.js';
import { checkExclusiveOptions } from '../engine/plan.js';
import { buildPolicyPlan, POLICY_OPTIONS, type PolicyOptions } from '../engine/policy-options.js';
import { checkMatchHeader, checkMatchPath, checkWindows, FAULT_OPTIONS, parseFaults, PROVIDER_OPTIONS } from '../proxy/config.js';
import {
  campaignFields,
  campaignNames,
  campaignWording,
  OptionError,
  optionsFromCampaign,
  type OptionProblem,
  type OptionTable,
} from '../util/option-table.js';
import { CAMPAIGN_SCHEMA, type Campaign, type CampaignPhase, type CampaignProvider, type CampaignScenario, type CampaignService, type PhaseFaults, type ProviderFaults } from './schema.js';

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

  /** Runs a check that throws UsageError; its message (an option's problem in the file's words, or less a leading 'where:') becomes a problem at `path`. */
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

// ---------------------------------------------------------------------------------------------
// Schema errors → problems

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, allowUnionTypes: true, verbose: true, strict: true }).compile(CAMPAIGN_SCHEMA);
  return validator;
}

const PATTERN_HINTS: Record<string, string> = {
  [DURATION_PATTERN]: 'is not a duration (use e.g. 500ms, 10s, 2m, 1m30s)',
  [WINDOW_PATTERN]: 'is not a window START..END (e.g. 10s..25s)',
  [LATENCY_PATTERN]: 'is not a duration or MIN~MAX range (e.g. 20ms or 10ms~50ms)',
  [NAME_PATTERN]: 'is not a valid name (use letters, digits, _ . -)',
  [LISTEN_PATTERN]: 'is not HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:9101 or 9101)',
  [HTTP_URL_PATTERN]: 'is not an http:// or https:// URL',
  [HEADER_NAME_PATTERN]: 'is not a valid header name',
  [METHOD_PATTERN]: 'is not an HTTP method',
  [ENV_NAME_PATTERN]: 'is not a valid environment variable name',
};

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  null: 'nothing',
};

function reportSchemaError(ctx: Context, error: ErrorObject, data: unknown): void {
  const path = toSegments(error.instancePath, data);
  const params = error.params as Record<string, unknown>;
  if (ctx.unresolved.has(pathKey(path))) return;
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      ctx.add([...path, field], `unknown field '${field}'${unknownFieldHint(path, field, known)}`, { atKey: true, shownPath: path });
      return;
    }
    case 'required': {
      const field = String(params.missingProperty);
      ctx.add(path, `missing required field '${field}'`);
      ctx.markReported([...path, field]);
      return;
    }
    case 'type': {
      if (error.parentSchema?.pattern === DURATION_PATTERN && typeof error.data === 'number') {
        ctx.add(path, `expected a duration such as '10s' or '500ms', got ${describe(ctx, path, error.data)} (a plain number is not a duration: add a unit)`);
        return;
      }
      const expected = String(params.type).split(',').map((t) => TYPE_NAMES[t] ?? t);
      ctx.add(path, `expected ${expected.join(' or ')}, got ${describe(ctx, path, error.data)}`);
      return;
    }
    case 'enum':
      ctx.add(path, `${ctx.show(path, error.data)} must be one of: ${(params.allowedValues as unknown[]).join(', ')}`);
      return;
    case 'pattern': {
      if (error.propertyName !== undefined) return; // reported by its propertyNames error
      const hint = PATTERN_HINTS[String(params.pattern)] ?? `does not match ${String(params.pattern)}`;
      ctx.add(path, `${ctx.show(path, error.data)} ${hint}`);
      return;
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      const pattern = String((error.schema as { pattern?: string } | undefined)?.pattern ?? '');
      ctx.add([...path, name], `'${name}' ${PATTERN_HINTS[pattern] ?? 'is not a valid name'}`, { atKey: true });
      return;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      ctx.add(path, `must be ${String(params.comparison)} ${String(params.limit)}, got ${ctx.show(path, error.data).slice(1, -1)}`);
      return;
    case 'minItems':
      ctx.add(path, `needs at least ${String(params.limit)} ${Number(params.limit) === 1 ? 'entry' : 'entries'}`);
      return;
    case 'minProperties':
      ctx.add(path, `needs at least ${String(params.limit)} ${Number(params.limit) === 1 ? 'entry' : 'entries'}`);
      return;
    case 'minLength':
      ctx.add(path, 'must not be empty');
      return;
    default:
      ctx.add(path, error.message ?? `fails ${error.keyword}`);
  }
}

function unknownFieldHint(path: readonly Segment[], field: string, known: readonly string[]): string {
  if (path.length === 1 && path[0] === 'defaults' && field === 'name') return ' (each scenario names itself)';
  if (field === 'fault-window' && path.includes('phases')) return ' (a phase is its own window: use at and for)';
  const close = closestName(field, known);
  return close !== undefined ? ` (did you mean '${close}'?)` : '';
}

function describe(ctx: Context, path: readonly Segment[], value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  const shown = ctx.show(path, value);
  return typeof value === 'string' ? shown : shown.slice(1, -1);
}

/** '/scenarios/1/duration' → ['scenarios', 1, 'duration'] (numbers where the data is a list). */
function toSegments(pointer: string, data: unknown): Segment[] {
  if (pointer === '') return [];
  const segments: Segment[] = [];
  let current: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment: Segment = Array.isArray(current) ? Number(part) : part;
    segments.push(segment);
    current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[part] : undefined;
  }
  return segments;
}

// ---------------------------------------------------------------------------------------------
// Semantic checks: what the schema cannot say. Each check looks at well-typed values only and
// stays quiet where the schema already reported a problem.

const isObject = (value: unknown): value is Raw => value !== null && typeof value === 'object' && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';

function checkSemantics(ctx: Context, root: Raw): void {
  if (!isObject(root)) return;
  const providers = isObject(root.providers) ? root.providers : {};
  const providerNames = Object.keys(providers);
  checkProviders(ctx, providers);
  if (isObject(root.service)) checkService(ctx, root.service);
  const defaults = isObject(root.defaults) ? root.defaults : undefined;
  if (defaults) checkScenarioFields(ctx, defaults, ['defaults'], providerNames);

  const scenarios = Array.isArray(root.scenarios) ? root.scenarios : [];
  const names = new Map<string, number>();
  scenarios.forEach((scenario, index) => {
    if (!isObject(scenario)) return;
    const base: Segment[] = ['scenarios', index];
    checkScenarioFields(ctx, scenario, base, providerNames);
    if (isString(scenario.name)) {
      const first = names.get(scenario.name);
      if (first !== undefined) ctx.add([...base, 'name'], `duplicate scenario name ${ctx.show([...base, 'name'], scenario.name)} (also scenarios[${first}])`);
      else names.set(scenario.name, index);
    }
    checkMerged(ctx, scenario, base, defaults, providerNames);
  });
}

function checkProviders(ctx: Context, providers: Raw): void {
  const listeners = new Map<string, string>();
  for (const [name, provider] of Object.entries(providers)) {
    if (!isObject(provider)) continue;
    const base: Segment[] = ['providers', name];
    const hasMock = provider.mock !== undefined && provider.mock !== false;
    const hasUpstream = provider.upstream !== undefined;
    const hasReplay = provider.replay !== undefined;
    if (hasMock && (hasUpstream || hasReplay)) ctx.add([...base, hasUpstream ? 'upstream' : 'replay'], `give mock or ${hasUpstream ? 'upstream' : 'replay'}, not both`, { atKey: true });
    else if (!hasMock && !hasUpstream && !hasReplay) ctx.add(base, 'give mock (a built-in healthy dependency), upstream (a real one) or replay (a HAR recording)');
    if (provider.record !== undefined && !hasUpstream) ctx.add([...base, 'record'], 'record needs an upstream to record', { atKey: true });
    if ((isString(provider.listen) || typeof provider.listen === 'number') && !ctx.isReported([...base, 'listen'])) {
      const listenPath = [...base, 'listen'];
      let parsed: { host: string; port: number } | undefined;
      ctx.attempt(listenPath, () => (parsed = parseListen(String(provider.listen), 'listen')));
      if (parsed && parsed.port !== 0) {
        const address = `${parsed.host}:${parsed.port}`;
        const other = listeners.get(address);
        if (other !== undefined) ctx.add(listenPath, `providers '${other}' and '${name}' both listen on this address`);
        else listeners.set(address, name);
      }
    }
    if (isObject(provider.mock) && isString(provider.mock.latency)) {
      const path = [...base, 'mock', 'latency'];
      const [low, high] = provider.mock.latency.split('~').map((part) => tryParseDuration(part));
      if (!ctx.isReported(path)) {
        if (low === undefined || (high === undefined && provider.mock.latency.includes('~'))) ctx.add(path, `${ctx.show(path, provider.mock.latency)} ${PATTERN_HINTS[LATENCY_PATTERN]}`);
        else if (high !== undefined && high < low) ctx.add(path, `${ctx.show(path, provider.mock.latency)}: MAX is below MIN`);
      }
    }
    if (isString(provider.upstream)) checkUrl(ctx, [...base, 'upstream'], provider.upstream, false);
  }
}

function checkService(ctx: Context, service: Raw): void {
  checkDuration(ctx, ['service', 'ready-timeout'], service['ready-timeout']);
  if (isString(service.ready)) checkUrl(ctx, ['service', 'ready'], service.ready, false);
}

/** Checks of one scenario's own fields (or of defaults), where the values were written. */
function checkScenarioFields(ctx: Context, scenario: Raw, base: Segment[], providerNames: readonly string[]): void {
  for (const field of ['duration', 'timeout', 'grace']) checkDuration(ctx, [...base, field], scenario[field]);
  if (Array.isArray(scenario.stages)) {
    scenario.stages.forEach((stage, i) => {
      if (isObject(stage)) checkDuration(ctx, [...base, 'stages', i, 'duration'], stage.duration);
    });
  }
  for (const problem of checkExclusiveOptions(campaignFields(LOAD_OPTIONS, scenario), campaignNames(LOAD_OPTIONS))) {
    ctx.add(fieldPath(LOAD_OPTIONS, base, problem), campaignWording(problem), { atKey: true });
  }
  checkPolicy(ctx, scenario, base);
  if (isString(scenario.url)) {
    checkUrl(ctx, [...base, 'url'], scenario.url, true);
  }
  if (isString(scenario.body)) {
    const body = scenario.body;
    ctx.attempt([...base, 'body'], () => compileTemplate(body, 'body'), 'body');
  }
  if (isString(scenario['expect-status'])) {
    const text = scenario['expect-status'];
    if (!ctx.isReported([...base, 'expect-status'])) ctx.attempt([...base, 'expect-status'], () => parseExpectStatus(text));
  }
  eachString(scenario['expect-json'], [...base, 'expect-json'], (text, path) => {
    if (!ctx.isReported(path)) ctx.attempt(path, () => parseJsonCheck(text));
  });
  eachString(scenario.thresholds, [...base, 'thresholds'], (text, path) => {
    if (!ctx.isReported(path)) ctx.attempt(path, () => parseThreshold(text));
  });
  if (isObject(scenario.faults)) {
    for (const [provider, faults] of Object.entries(scenario.faults)) {
      const path = [...base, 'faults', provider];
      checkProviderName(ctx, path, provider, providerNames);
      if (isObject(faults)) checkFaultFields(ctx, faults, path);
    }
  }
  if (Array.isArray(scenario.phases)) {
    scenario.phases.forEach((phase, i) => {
      if (!isObject(phase)) return;
      const path = [...base, 'phases', i];
      checkDuration(ctx, [...path, 'at'], phase.at);
      const forMs = checkDuration(ctx, [...path, 'for'], phase.for);
      if (forMs === 0) ctx.add([...path, 'for'], 'a phase must last longer than 0');
      if (isObject(phase.providers)) {
        for (const [provider, faults] of Object.entries(phase.providers)) {
          checkProviderName(ctx, [...path, 'providers', provider], provider, providerNames);
          if (isObject(faults)) checkFaultFields(ctx, faults, [...path, 'providers', provider]);
        }
      }
    });
  }
}

/** Checks that need the scenario with defaults applied. */
function checkMerged(ctx: Context, scenario: Raw, base: Segment[], defaults: Raw | undefined, providerNames: readonly string[]): void {
  const merged = mergeDefaults(scenario, defaults);
  if (merged.url === undefined && !ctx.isReported([...base, 'url'])) {
    ctx.add(base, "missing required field 'url' (set it in the scenario or in defaults)");
  }
  const typePath: Segment[] = scenario.type !== undefined ? [...base, 'type'] : defaults?.type !== undefined ? ['defaults', 'type'] : [...base, 'name'];
  if (merged.type === 'chaos' && providerNames.length === 0) {
    ctx.add(typePath, 'a chaos scenario needs at least one provider: declare it under providers');
  }
  if (merged.type !== 'chaos') {
    for (const field of ['faults', 'phases']) {
      if (scenario[field] !== undefined) ctx.add([...base, field], `${field} apply to chaos scenarios only (set type: chaos)`, { atKey: true });
    }
    const thresholdsBase: Segment[] = scenario.thresholds !== undefined ? [...base, 'thresholds'] : ['defaults', 'thresholds'];
    eachString(merged.thresholds, thresholdsBase, (text, path) => {
      if (ctx.isReported(path)) return;
      let metric: string | undefined;
      ctx.attempt(path, () => (metric = parseThreshold(text).metric));
      const problem = metric === undefined ? undefined : chaosOnlyProblem(text, metric, 'set type: chaos');
      if (problem) ctx.add(path, problem);
    });
  }
  if (scenario['max-connections'] !== undefined && merged.rate === undefined && merged.stages === undefined) {
    ctx.add([...base, 'max-connections'], 'max-connections bounds the open model: set rate or stages (the closed model uses exactly concurrency connections)', { atKey: true });
  }
  if (merged.type === 'chaos' && Array.isArray(merged.phases)) checkPhaseTiming(ctx, merged, scenario.phases !== undefined ? base : ['defaults']);
}

function checkPhaseTiming(ctx: Context, merged: Raw, phasesBase: Segment[]): void {
  const lengthMs = scenarioLengthMs(merged);
  const byProvider = new Map<string, Array<{ start: number; end: number; index: number }>>();
  (merged.phases as unknown[]).forEach((phase, index) => {
    if (!isObject(phase) || !isString(phase.at) || !isString(phase.for)) return;
    const start = tryParseDuration(phase.at);
    const length = tryParseDuration(phase.for);
    if (start === undefined || length === undefined || length === 0) return;
    const path = [...phasesBase, 'phases', index];
    if (lengthMs !== undefined && start + length > lengthMs) {
      ctx.add(path, `at ${phase.at} + for ${phase.for} ends after the scenario (${formatLength(lengthMs)})`);
    }
    for (const provider of isObject(phase.providers) ? Object.keys(phase.providers) : []) {
      const list = byProvider.get(provider) ?? [];
      const overlap = list.find((other) => start < other.end && other.start < start + length);
      if (overlap) ctx.add(path, `overlaps phases[${overlap.index}] for provider '${provider}'`);
      list.push({ start, end: start + length, index });
      byProvider.set(provider, list);
    }
  });
}

function scenarioLengthMs(merged: Raw): number | undefined {
  if (Array.isArray(merged.stages)) {
    let total = 0;
    for (const stage of merged.stages) {
      const ms = isObject(stage) && isString(stage.duration) ? tryParseDuration(stage.duration) : undefined;
      if (ms === undefined) return undefined;
      total += ms;
    }
    return total;
  }
  return isString(merged.duration) ? tryParseDuration(merged.duration) : undefined;
}

function formatLength(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function checkFaultFields(ctx: Context, faults: Raw, base: Segment[]): void {
  if (isString(faults.faults) && faults.faults !== '' && !ctx.isReported([...base, 'faults'])) {
    const mix = faults.faults;
    ctx.attempt([...base, 'faults'], () => parseFaults(mix));
  }
  const [matchPath, matchHeader] = [faults['match-path'], faults['match-header']];
  const problems = [isString(matchPath) ? checkMatchPath(matchPath) : undefined, isString(matchHeader) ? checkMatchHeader(matchHeader) : undefined].filter(
    (problem): problem is OptionProblem => problem !== undefined,
  );
  const windows = faults['fault-window'];
  if (isString(windows) || (Array.isArray(windows) && windows.every(isString))) problems.push(...checkWindows(isString(windows) ? [windows] : windows));
  for (const problem of problems) {
    const path = fieldPath(FAULT_OPTIONS, base, Array.isArray(windows) ? problem : { ...problem, index: undefined });
    // A window the schema refused (not START..END) is reported once, by the schema.
    if (!ctx.isReported(path)) ctx.add(path, campaignWording(problem));
  }
}

/** The policy options of a scenario (or of defaults), checked as resil chaos checks its flags. */
function checkPolicy(ctx: Context, scenario: Raw, base: Segment[]): void {
  const given = campaignFields(POLICY_OPTIONS, scenario);
  for (const field of Object.keys(given)) if (ctx.isReported(fieldPath(POLICY_OPTIONS, base, { field }))) delete given[field];
  if (Object.keys(given).length > 0) buildPolicyPlan(given, (problem) => ctx.add(fieldPath(POLICY_OPTIONS, base, problem), campaignWording(problem)));
}

/** Where an option's problem is in the file: the option's campaign key under `base`, and the entry of a list. */
function fieldPath(table: OptionTable, base: Segment[], problem: { field: string; index?: number | undefined }): Segment[] {
  const path = [...base, table[problem.field]?.campaign ?? problem.field];
  return problem.index === undefined ? path : [...path, problem.index];
}

function checkProviderName(ctx: Context, path: Segment[], name: string, declared: readonly string[]): void {
  if (declared.includes(name)) return;
  const known = declared.length > 0 ? `declared: ${declared.join(', ')}` : 'no providers are declared';
  ctx.add(path, `unknown provider '${name}' (${known})`, { atKey: true });
}

/** Milliseconds of a duration field, or undefined (a problem is added when it is not a duration). */
function checkDuration(ctx: Context, path: Segment[], value: unknown): number | undefined {
  if (!isString(value)) return undefined;
  const ms = tryParseDuration(value);
  if (ms === undefined && !ctx.isReported(path)) ctx.add(path, `${ctx.show(path, value)} ${PATTERN_HINTS[DURATION_PATTERN]}`);
  return ms;
}

function checkUrl(ctx: Context, path: Segment[], text: string, template: boolean): void {
  if (ctx.isReported(path)) return;
  if (template && !ctx.attempt(path, () => compileTemplate(text, 'url'), 'url')) return;
  try {
    new URL(text);
  } catch {
    ctx.add(path, `${ctx.show(path, text)} is not a valid URL`);
  }
}

function eachString(value: unknown, base: Segment[], fn: (text: string, path: Segment[]) => void): void {
  if (isString(value)) fn(value, base);
  else if (Array.isArray(value)) value.forEach((item, i) => isString(item) && fn(item, [...base, i]));
}

// ---------------------------------------------------------------------------------------------
// Defaults and the parsed campaign

const OPEN_MODEL_FIELDS = ['rate', 'duration', 'requests'];

/** The scenario with defaults applied (raw, kebab-case keys). */
function mergeDefaults(scenario: Raw, defaults: Raw | undefined): Raw {
  if (!defaults) return { ...scenario, type: scenario.type ?? 'load' };
  const inherited: Raw = { ...defaults };
  if (scenario.stages !== undefined) for (const field of OPEN_MODEL_FIELDS) delete inherited[field];
  if (OPEN_MODEL_FIELDS.some((field) => scenario[field] !== undefined)) delete inherited.stages;
  if (scenario.body !== undefined || scenario['body-file'] !== undefined) {
    delete inherited.body;
    delete inherited['body-file'];
  }
  // max-connections in defaults reaches open-model scenarios only (the closed model refuses it).
  if (scenario.rate === undefined && scenario.stages === undefined && inherited.rate === undefined && inherited.stages === undefined) delete inherited['max-connections'];
  const type = scenario.type ?? defaults.type ?? 'load';
  if (type !== 'chaos') {
    delete inherited.faults;
    delete inherited.phases;
  }
  return { ...inherited, ...scenario, type };
}

function buildCampaign(file: string, root: Raw): Campaign {
  const providers: Record<string, CampaignProvider> = {};
  for (const [name, raw] of Object.entries((root.providers as Raw | undefined) ?? {})) providers[name] = toProvider(raw as Raw);
  const campaign: Campaign = {
    file,
    providers,
    scenarios: (root.scenarios as Raw[]).map((scenario) => toScenario(mergeDefaults(scenario, root.defaults as Raw | undefined))),
  };
  if (root.service !== undefined) campaign.service = toService(root.service as Raw);
  return campaign;
}

/** Copies the fields present in `raw`, renamed (file key → parsed key) and converted. */
function pick<T>(raw: Raw, fields: Record<string, string | [string, (value: unknown) => unknown]>): T {
  const out: Raw = {};
  for (const [from, to] of Object.entries(fields)) {
    if (raw[from] === undefined) continue;
    if (typeof to === 'string') out[to] = raw[from];
    else out[to[0]] = to[1](raw[from]);
  }
  return out as T;
}

function mapValues<T>(raw: unknown, fn: (value: Raw) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(raw as Raw).map(([key, value]) => [key, fn(value as Raw)]));
}

function toPhase(raw: Raw): CampaignPhase {
  return { at: raw.at as string, for: raw.for as string, providers: mapValues(raw.providers, (value) => optionsFromCampaign<PhaseFaults>(FAULT_OPTIONS, value)) };
}

/** The scenario's options as the tables map them (LOAD_OPTIONS; POLICY_OPTIONS into `policy`), plus the runner's own fields. */
function toScenario(raw: Raw): CampaignScenario {
  const scenario: CampaignScenario = { name: raw.name as string, type: raw.type as CampaignScenario['type'], ...optionsFromCampaign<Omit<CampaignScenario, 'name' | 'type'>>(LOAD_OPTIONS, raw) };
  const policy = optionsFromCampaign<PolicyOptions>(POLICY_OPTIONS, raw);
  if (Object.keys(policy).length > 0) scenario.policy = policy;
  if (raw.faults !== undefined) scenario.faults = mapValues(raw.faults, (value) => optionsFromCampaign<ProviderFaults>(FAULT_OPTIONS, value));
  if (raw.phases !== undefined) scenario.phases = (raw.phases as Raw[]).map(toPhase);
  return scenario;
}

function toProvider(raw: Raw): CampaignProvider {
  return optionsFromCampaign<CampaignProvider>(PROVIDER_OPTIONS, raw);
}

function toService(raw: Raw): CampaignService {
  return pick<CampaignService>(raw, {
    command: 'command',
    env: ['env', (value) => mapValues(value, (v) => String(v))],
    ready: 'ready',
    'ready-timeout': 'readyTimeout',
  });
}
