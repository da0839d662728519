import { UsageError, escapeControl } from '../errors.js';
import { isSecretHeader, REDACTED, redactUrlText } from '../util/redact.js';
import type { ShownAs } from '../util/option-table.js';
import { closestName } from '../util/suggest.js';
import { FLAG_TABLES } from './command-options.js';

/**
 * Every flag can also come from the environment, as CI files set knobs: `--max-in-flight` is
 * RESIL_MAX_IN_FLIGHT. The command line wins over the environment; an empty variable counts as
 * unset. A repeatable flag takes one value per line; a boolean takes true/false, 1/0, yes/no, on/off.
 */
const ENV_PREFIX = 'RESIL_';

/** What the parser needs to know of a flag (a subset of oclif's flag definition). */
export interface FlagShape {
  type: 'boolean' | 'option';
  char?: string;
  multiple?: boolean;
  allowNo?: boolean;
}

/** A flag whose value came from its environment variable. */
export interface EnvFlag {
  flag: string;
  variable: string;
  /** The values as given (a repeatable flag's lines), never shown without `shownValue`. */
  values: string[];
}

/** `max-in-flight` → `RESIL_MAX_IN_FLIGHT`. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, '_');
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
/** Flags oclif handles before a command runs; they never come from the environment. */
const NOT_FROM_ENV = new Set(['help', 'version']);

/**
 * The command-line tokens that give each flag its value from the environment, for the flags the
 * command line does not give, and a record of them. The tokens go before the user's arguments, in
 * `--name=value` form, so the parser checks them exactly as if typed.
 */
export function flagsFromEnvironment(
  flags: Readonly<Record<string, FlagShape>>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  bareValues: ReadonlyMap<string, string> = new Map(),
): { argv: string[]; used: EnvFlag[] } {
  const given = flagsOnCommandLine(flags, argv);
  const tokens: string[] = [];
  const used: EnvFlag[] = [];
  for (const [name, flag] of Object.entries(flags)) {
    const variable = envName(name);
    const raw = env[variable];
    if (NOT_FROM_ENV.has(name) || given.has(name) || raw === undefined || raw.trim() === '') continue;
    if (flag.type === 'boolean') {
      const word = raw.trim().toLowerCase();
      if (!TRUE.has(word) && !FALSE.has(word))
        throw new UsageError(`${variable}='${raw}': expected true or false (or 1/0, yes/no, on/off)`);
      // false is every boolean flag's default; only a negatable flag needs saying so.
      if (TRUE.has(word)) tokens.push(`--${name}`);
      else if (flag.allowNo) tokens.push(`--no-${name}`);
      else continue;
      used.push({ flag: name, variable, values: [raw.trim()] });
      continue;
    }
    // A flag that is a switch and takes a value (`--mock`, `--mock openai`): a true word gives it bare, a false word leaves it out.
    const bare = bareValues.get(name);
    const word = raw.trim().toLowerCase();
    if (bare !== undefined && (TRUE.has(word) || FALSE.has(word))) {
      if (FALSE.has(word)) continue;
      tokens.push(`--${name}=${bare}`);
      used.push({ flag: name, variable, values: [raw.trim()] });
      continue;
    }
    const values = flag.multiple
      ? raw
          .split(/\r?\n/)
          .map((line) => line.trim())
          .filter((line) => line !== '')
      : [raw];
    for (const value of values) tokens.push(`--${name}=${value}`);
    used.push({ flag: name, variable, values });
  }
  return { argv: [...tokens, ...argv], used };
}

/** RESIL_* variables that are no flag: read by resil's own test suite. */
const OTHER_VARIABLES = new Set(['RESIL_UPDATE_SCHEMA']);

/**
 * A warning line for each RESIL_* variable that names no flag of any resil command (a typo such as
 * RESIL_CONCURENCY would otherwise be ignored without a word), with the nearest variable that does.
 * A variable for another command's flag (RESIL_LISTEN under `load`) is no typo: CI files set them
 * for several steps at once.
 */
export function unknownEnvVariables(allFlags: Iterable<string>, env: NodeJS.ProcessEnv): string[] {
  const known = [...new Set(allFlags)].map(envName);
  return Object.keys(env)
    .filter((variable) => variable.startsWith(ENV_PREFIX) && !known.includes(variable) && !OTHER_VARIABLES.has(variable))
    .sort()
    .map((variable) => {
      const near = closestName(variable, known);
      return `warning: ${variable} matches no resil flag and is ignored${near ? ` (did you mean ${near}?)` : ''}`;
    });
}

/** Names of the flags given on the command line (long, `--no-` and short forms), up to `--`. */
function flagsOnCommandLine(flags: Readonly<Record<string, FlagShape>>, argv: readonly string[]): Set<string> {
  const byChar = new Map(Object.entries(flags).flatMap(([name, flag]) => (flag.char ? [[flag.char, name] as const] : [])));
  const given = new Set<string>();
  for (const token of argv) {
    if (token === '--') break;
    if (token.startsWith('--')) {
      const name = token.slice(2).split('=')[0]!;
      given.add(name in flags ? name : name.replace(/^no-/, ''));
    } else if (/^-[^-\d]/.test(token)) {
      const name = byChar.get(token[1]!);
      if (name !== undefined) given.add(name);
    }
  }
  return given;
}

/**
 * How each flag's value is shown, as its option table declares it (OptionSpec.shown). A flag that
 * declares nothing, or that no table has, is shown as its size: a value is echoed only when declared safe.
 */
const SHOWN: ReadonlyMap<string, ShownAs> = new Map(
  FLAG_TABLES.flatMap((table) => Object.values(table)).flatMap((spec) =>
    spec.flag === undefined ? [] : [[spec.flag, spec.shown ?? 'size']],
  ),
);

/**
 * The values from the environment as reports keep them: plain settings as given, URLs without
 * credentials, header names with the values of secret headers redacted, anything else as
 * '(set, N bytes)'; a repeatable flag's values one per line.
 */
export function shownEnvValues(used: readonly EnvFlag[], redactedHeaders: readonly string[] = []): Record<string, string> {
  const extra = new Set(redactedHeaders.map((name) => name.toLowerCase()));
  const shown: Record<string, string> = {};
  for (const { flag, variable, values } of used) shown[variable] = values.map((value) => shownValue(flag, value, extra)).join('\n');
  return shown;
}

function shownValue(flag: string, value: string, extraSecretHeaders: ReadonlySet<string>): string {
  const shown = SHOWN.get(flag) ?? 'size';
  if (shown === 'plain') return value;
  if (shown === 'url') return redactUrlText(value);
  if (shown === 'secret') return REDACTED;
  if (shown === 'header') {
    const colon = value.indexOf(':');
    if (colon > 0 && isSecretHeader(value.slice(0, colon).trim(), extraSecretHeaders)) return `${value.slice(0, colon)}: ${REDACTED}`;
    if (colon > 0) return value;
  }
  if (/token|secret|password|key/i.test(flag)) return REDACTED;
  return `(set, ${Buffer.byteLength(value)} bytes)`;
}

/** 'RESIL_CONCURRENCY=100 · RESIL_THRESHOLD=p99<300ms\nsuccess_rate>=0.99', one line, at most 80 characters a value. */
export function envSummary(shown: Readonly<Record<string, string>>): string {
  return Object.entries(shown)
    .map(([variable, value]) => {
      const line = escapeControl(value);
      return `${variable}=${line.length > 80 ? `${line.slice(0, 79)}…` : line}`;
    })
    .join(' · ');
}

/**
 * A usage error's message, saying where the environment came in: the variable behind each flag the
 * message names, else (for a one-line message) every flag value that came from the environment.
 */
export function withEnvContext(message: string, used: readonly EnvFlag[], shown: Readonly<Record<string, string>>): string {
  if (used.length === 0) return message;
  const named = used.filter(({ flag }) => new RegExp(`(?<![\\w-])--${flag}(?![\\w-])`).test(message));
  if (named.length > 0) return `${message} (from ${named.map(({ variable }) => variable).join(', ')})`;
  if (message.includes('\n')) return message;
  return `${message} (flags from the environment: ${envSummary(shown)})`;
}
