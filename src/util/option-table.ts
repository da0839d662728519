/**
 * One table per option group (load, policy, faults, provider): each entry is one option of the
 * library, with how the command line and the campaign file spell it. The oclif flags (src/cli), the
 * campaign's JSON Schema and its mapping onto the library's types (src/campaign) are derived from
 * these tables, and the library takes its defaults from them: a new option is one entry here plus
 * the field of the options type it fills.
 */
export interface OptionSpec {
  /** Command-line flag without '--' (absent: the option is not a flag). */
  flag?: string;
  /** One-letter flag alias. */
  char?: string;
  /** The flag's value: 'strings' is a repeatable string flag. */
  type: 'integer' | 'string' | 'boolean' | 'strings';
  /** The flag's help line. */
  summary?: string;
  /** The library's default, shown in --help and given by the flag (absent: none, or one the library computes). */
  default?: string | number | boolean;
  /** The flag's text → the library's value ('200/s' → 200); throws UsageError. */
  fromFlag?: (text: string) => unknown;
  /** Key in the campaign file (absent: the option is not settable there). */
  campaign?: string;
  /** JSON Schema of the campaign key, with its description. */
  schema?: Record<string, unknown>;
  /** The campaign value (already valid against `schema`) → the library's value. */
  fromCampaign?: (value: unknown) => unknown;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The JSON Schema properties of the options a campaign file can set, by campaign key. */
export function schemaProperties(table: OptionTable): Record<string, Record<string, unknown>> {
  const properties: Record<string, Record<string, unknown>> = {};
  for (const spec of Object.values(table)) if (spec.campaign !== undefined && spec.schema !== undefined) properties[spec.campaign] = spec.schema;
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

/** The option's key as the front end names it: '--body-file' on the command line, else the library key. */
export function flagOf(table: OptionTable, key: string): string {
  const flag = table[key]?.flag;
  return flag === undefined ? key : `--${flag}`;
}

/** A YAML string or list of strings as a list. */
export function toStringList(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String);
}

/** A string, or a list of strings; `keywords` apply to each string (JSON Schema). */
export function stringOrList(description: string, keywords: Record<string, unknown>): Record<string, unknown> {
  return { description, type: ['string', 'array'], ...keywords, items: { type: 'string', ...keywords } };
}
