import { UsageError } from '../errors.js';

/**
 * One table per option group (load, policy, faults, mock, provider; src/cli/command-options.ts has the
 * flags that are no library option): each entry is one option, with how the command line and the
 * campaign file spell it, its one help text and how reports show its value. The oclif flags (src/cli),
 * the campaign's JSON Schema and its mapping onto the library's types (src/campaign) are derived from
 * these tables, and the library takes its defaults from them: a new option is one entry in a table
 * plus the field of the options type it fills.
 */
export interface OptionSpec {
  /** Command-line flag without '--' (absent: the option is not a flag). */
  flag?: string;
  /** One-letter flag alias. */
  char?: string;
  /** The flag's value ('strings': a repeatable string flag); absent: a string, or no flag. */
  type?: 'integer' | 'string' | 'boolean' | 'strings';
  /**
   * A string flag whose value may be left out: given bare it has this one (`--mock` is `--mock=generic`).
   * A value is the next argument when that is a plain word (no '-' first, no ':' or '/').
   */
  bareValue?: string;
  /**
   * The option's one help text: the flag's help line and, with the default and `campaignNote`, the
   * campaign key's description (optionDescription).
   */
  summary?: string;
  /** A command's own help line for the flag, where that command uses the option differently (command → text). */
  summaries?: Readonly<Record<string, string>>;
  /** Added to the flag's help line only: command-line wording ('-d', '(repeatable).'); see withNote. */
  flagNote?: string;
  /** Added to the campaign key's description only ('Excludes body.'); see withNote. */
  campaignNote?: string;
  /** The default as the description says it, where the value reads badly (1048576 → '1 MiB'). */
  defaultText?: string;
  /** How reports show a value given through RESIL_* (absent: 'size', so a value is never echoed unless declared safe). */
  shown?: ShownAs;
  /** The library's default, shown in --help and given by the flag (absent: none, or one the library computes). */
  default?: string | number | boolean;
  /** The flag's text → the library's value ('200/s' → 200); throws UsageError. */
  fromFlag?: (text: string) => unknown;
  /** Key in the campaign file (absent: the option is not settable there). */
  campaign?: string;
  /** JSON Schema of the campaign key, without its description (optionDescription makes it). */
  schema?: Record<string, unknown>;
  /** The campaign value (already valid against `schema`) → the library's value. */
  fromCampaign?: (value: unknown) => unknown;
}

/**
 * How a flag's value given through RESIL_* is shown in the terminal and the step summary: 'plain' as
 * given (settings: numbers, durations, names, paths); 'url' without credentials or token-like query
 * values; 'header' as 'Name: value' with secret headers' values redacted; 'secret' as [redacted];
 * 'size' as '(set, N bytes)' (user data: a body, an expected response, a path to match).
 */
export type ShownAs = 'plain' | 'url' | 'header' | 'secret' | 'size';

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/**
 * A help text with a note added: a note opening with ',', ';' or ':' continues the sentence, one in
 * parentheses goes before its full stop, any other is a sentence of its own.
 */
export function withNote(text: string, note: string | undefined): string {
  if (note === undefined) return text;
  if (/^[,;:]/.test(note)) return text.replace(/\.$/, '') + note;
  if (note.startsWith('(')) return `${text.replace(/\.$/, '')} ${note}`;
  return `${text} ${note}`;
}

/** The campaign key's description: the help text, its default ('(default 10s).') and the campaign's note. */
export function optionDescription(spec: OptionSpec): string {
  const shownDefault = spec.defaultText ?? (spec.default === undefined || spec.default === false ? undefined : String(spec.default));
  const text = withNote(spec.summary ?? '', shownDefault === undefined ? undefined : `(default ${shownDefault}).`);
  return withNote(text, spec.campaignNote);
}

/** The JSON Schema properties of the options a campaign file can set, by campaign key. */
export function schemaProperties(table: OptionTable): Record<string, Record<string, unknown>> {
  const properties: Record<string, Record<string, unknown>> = {};
  for (const spec of Object.values(table)) {
    if (spec.campaign !== undefined && spec.schema !== undefined) {
      properties[spec.campaign] = { description: optionDescription(spec), ...spec.schema };
    }
  }
  return properties;
}

/** The options present in a campaign object (kebab-case keys), under the library's keys and converted. */
export function optionsFromCampaign<T>(table: OptionTable, raw: Readonly<Record<string, unknown>>): T {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    if (spec.campaign === undefined || raw[spec.campaign] === undefined) continue;
    const value = spec.fromCampaign ? spec.fromCampaign(raw[spec.campaign]) : raw[spec.campaign];
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

/**
 * A problem with an option's value, in no front end's words: `field` is the option's key in its table,
 * `value` the text at fault (quoted by the front end), `index` the entry of a list option.
 */
export interface OptionProblem {
  field: string;
  message: string;
  value?: string;
  index?: number;
  /**
   * The message names the options it is about: `{key}` stands for the option `key` of the table, named
   * by the front end ('{bodyFile}': '--body-file' on the command line, 'body-file' in a campaign file),
   * which puts no option's name before it.
   */
  named?: boolean;
}

/** Names options as the command line does ('--body-file'); an option without a flag keeps its key. */
export function flagNames(table: OptionTable): (field: string) => string {
  return (field) => (table[field]?.flag === undefined ? field : `--${table[field]!.flag}`);
}

/** Names options as the campaign file does ('body-file'). */
export function campaignNames(table: OptionTable): (field: string) => string {
  return (field) => table[field]?.campaign ?? field;
}

/** The options a problem is about: its field, then those a named message names, in order. */
export function problemFields(table: OptionTable, problem: OptionProblem): string[] {
  if (!problem.named) return [problem.field];
  const named = [...problem.message.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!).filter((key) => Object.hasOwn(table, key));
  return [...new Set([problem.field, ...named])];
}

/** A named message with each {key} of the table replaced by the option's name (other messages as they are: they may quote braces). */
function nameOptions(table: OptionTable, problem: OptionProblem, nameOf: (field: string) => string): string {
  if (!problem.named) return problem.message;
  return problem.message.replace(/\{(\w+)\}/g, (whole, key: string) => (Object.hasOwn(table, key) ? nameOf(key) : whole));
}

/** The problem in the command line's words: "--match-path 'v1/**': a path glob starts with /" (no prefix for an option without a flag). */
export function flagWording(table: OptionTable, problem: OptionProblem): string {
  const message = nameOptions(table, problem, flagNames(table));
  if (problem.named) return message;
  const flag = table[problem.field]?.flag;
  const value = problem.value === undefined ? '' : `'${problem.value}'`;
  if (flag === undefined) return value === '' ? message : `${value}: ${message}`;
  return value === '' ? `--${flag}: ${message}` : `--${flag} ${value}: ${message}`;
}

/** The problem in the campaign file's words, after the field's path: "'v1/**': a path glob starts with /". */
export function campaignWording(table: OptionTable, problem: OptionProblem): string {
  const message = nameOptions(table, problem, campaignNames(table));
  return problem.value === undefined || problem.named ? message : `'${problem.value}': ${message}`;
}

/** How a front end words an option's problem (flagWording, or the campaign's wording with its key). */
export type OptionWording = (table: OptionTable, problem: OptionProblem) => string;

/**
 * Thrown by the parser of one option: its message is the command line's wording (what the library
 * reports), and `problem` lets another front end (the campaign loader) word it with its own key.
 */
export class OptionError extends UsageError {
  constructor(
    readonly table: OptionTable,
    readonly problem: OptionProblem,
  ) {
    super(flagWording(table, problem));
  }
}

/** Runs `fn`; an OptionError it throws (in the command line's words) is thrown again in `word`'s. */
export function inWording<T>(word: OptionWording, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof OptionError && word !== flagWording) throw new UsageError(word(error.table, error.problem));
    throw error;
  }
}

/** The values of a campaign object under the library's keys, as written (for checks made before conversion). */
export function campaignFields(table: OptionTable, raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    if (spec.campaign !== undefined && raw[spec.campaign] !== undefined) out[key] = raw[spec.campaign];
  }
  return out;
}

/** A YAML string or list of strings as a list. */
export function toStringList(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String);
}

/** A string, or a list of strings; `keywords` apply to each string (JSON Schema). */
export function stringOrList(keywords: Record<string, unknown>): Record<string, unknown> {
  return { type: ['string', 'array'], ...keywords, items: { type: 'string', ...keywords } };
}
