import { Flags, type Interfaces } from '@oclif/core';
import { withNote, type OptionSpec, type OptionTable } from '../util/option-table.js';

/** A flag whose value type only the option table knows (parsed values are read through optionsFromFlags). */
// oclif's Flag<T> is invariant in T (its parser takes and returns T):
// biome-ignore lint/suspicious/noExplicitAny: so flags of several value types share no narrower type.
type TableFlag = Interfaces.Flag<any>;

/** Which command the flags are for (its help line in `summaries`), and what every help line of the group opens with. */
export interface FlagContext {
  command?: string;
  /** 'Policy mode: ' (the help text's first letter is lowered after it). */
  prefix?: string;
}

/** The flag's help line: the command's own, or the option's help text (after the group's prefix) with the flag's note. */
export function flagSummary(spec: OptionSpec, context: FlagContext = {}): string | undefined {
  const own = context.command === undefined ? undefined : spec.summaries?.[context.command];
  if (own !== undefined || spec.summary === undefined) return own;
  const text =
    context.prefix === undefined ? spec.summary : context.prefix + spec.summary.replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase());
  return withNote(text, spec.flagNote);
}

/** The oclif flag of one option: its type, letter, help line and default come from the option table. */
export function flagFor(spec: OptionSpec, context: FlagContext = {}): TableFlag {
  const common = { summary: flagSummary(spec, context), ...(spec.char === undefined ? {} : { char: spec.char as 'a' }) };
  switch (spec.type) {
    case 'integer':
      return Flags.integer({ ...common, ...(spec.default === undefined ? {} : { default: spec.default as number }) });
    case 'boolean':
      return Flags.boolean({ ...common, default: (spec.default as boolean | undefined) ?? false });
    case 'strings':
      return Flags.string({ ...common, multiple: true, multipleNonGreedy: true });
    default:
      return Flags.string({ ...common, ...(spec.default === undefined ? {} : { default: spec.default as string }) });
  }
}

/** Flag name → flag, for the options of a table that have a flag. */
type FlagsOf<T extends OptionTable> = { [K in keyof T as T[K] extends { flag: infer F extends string } ? F : never]: TableFlag };

/** The flags of every option of a table that has one, in the table's order. */
export function flagsOf<T extends OptionTable>(table: T, context: FlagContext = {}): FlagsOf<T> {
  const flags: Record<string, TableFlag> = {};
  for (const spec of Object.values(table)) if (spec.flag !== undefined) flags[spec.flag] = flagFor(spec, context);
  return flags as FlagsOf<T>;
}

/** The options given on the command line (parsed flags, with their defaults), under the library's keys and converted. */
export function optionsFromFlags<T>(table: OptionTable, flags: Readonly<Record<string, unknown>>): T {
  const options: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const value = spec.flag === undefined ? undefined : flags[spec.flag];
    if (value === undefined) continue;
    options[key] = spec.fromFlag ? spec.fromFlag(value as string) : value;
  }
  return options as T;
}

/** A word that can be a bare-valued flag's value: not a flag, a URL, a path or HOST:PORT. */
const PLAIN_WORD = /^[A-Za-z][\w.-]*$/;

/**
 * The command line with each bare-valued flag (OptionSpec.bareValue) given its value: `--mock` alone,
 * or before another flag, a URL or the end, becomes `--mock=generic`; `--mock openai` stays as it is.
 * oclif has no optional flag values: this lets one flag be a switch and take a value.
 */
export function withBareValues(argv: readonly string[], bareValues: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const bare = token.startsWith('--') ? bareValues.get(token.slice(2)) : undefined;
    const next = argv[i + 1];
    out.push(bare !== undefined && (next === undefined || !PLAIN_WORD.test(next)) ? `${token}=${bare}` : token);
  }
  return out;
}

/** The bare-valued flags among `flagNames`, with their bare values. */
export function bareValueFlags(tables: readonly OptionTable[], flagNames: readonly string[]): Map<string, string> {
  const names = new Set(flagNames);
  const found = new Map<string, string>();
  for (const spec of tables.flatMap((table) => Object.values(table))) {
    if (spec.flag !== undefined && spec.bareValue !== undefined && names.has(spec.flag)) found.set(spec.flag, spec.bareValue);
  }
  return found;
}
