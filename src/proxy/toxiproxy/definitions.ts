import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import type { ToxicSpec } from '../../faults/toxics/toxic.js';
import { checkAnyToxic, isHttpUpstream } from './http-toxics.js';
import type { ProxyDefinition } from './named-proxy.js';

/** An error of the Toxiproxy API: its JSON is `{"error": message, "status": status}` (Toxiproxy's ApiError). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export const PROXY_NOT_FOUND = (): ApiError => new ApiError('proxy not found', 404);
export const TOXIC_NOT_FOUND = (): ApiError => new ApiError('toxic not found', 404);

/** A JSON body as Toxiproxy decodes it; anything else is its 400 'bad request body: ...'. */
export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text === '' ? 'null' : text);
  } catch (error) {
    throw new ApiError(`bad request body: ${(error as Error).message}`, 400);
  }
}

export function badBody(why: string): ApiError {
  return new ApiError(`bad request body: ${why}`, 400);
}

/** Fields of a proxy body: strings and a boolean where Toxiproxy has them. */
export function stringField(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badBody(`${field} must be a string`);
  return value;
}

export function booleanField(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badBody(`${field} must be true or false`);
  return value;
}

export function objectBody(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badBody(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * One proxy of a create or populate body or config file: name and upstream required (Toxiproxy's
 * 'missing required field: name at proxy 2'), enabled default true, and resil's `toxics` (checked
 * whole, names unique). `at` is ' at proxy N' in a list.
 */
export function checkDefinition(value: unknown, at = ''): ProxyDefinition {
  const body = objectBody(value, `proxy${at}`);
  const name = stringField(body, 'name');
  if (!name) throw new ApiError(`missing required field: name${at}`, 400);
  const upstream = stringField(body, 'upstream');
  if (!upstream) throw new ApiError(`missing required field: upstream${at}`, 400);
  const listen = stringField(body, 'listen');
  const enabled = booleanField(body, 'enabled') ?? true;
  const definition: ProxyDefinition = { name, upstream, enabled, ...(listen === undefined || listen === '' ? {} : { listen }) };
  if (body.toxics !== undefined && body.toxics !== null) {
    if (!Array.isArray(body.toxics)) throw badBody(`toxics of proxy '${name}' must be a list`);
    definition.toxics = checkToxicList(body.toxics, name, isHttpUpstream(upstream));
  }
  return definition;
}

function checkToxicList(values: readonly unknown[], proxy: string, http: boolean): ToxicSpec[] {
  const toxics: ToxicSpec[] = [];
  for (const value of values) {
    let toxic: ToxicSpec;
    try {
      toxic = checkAnyToxic(value, http);
    } catch (error) {
      if (error instanceof UsageError) throw new ApiError(`proxy '${proxy}': ${error.message}`, 400);
      throw error;
    }
    if (toxics.some((t) => t.name === toxic.name)) throw new ApiError(`proxy '${proxy}': toxic '${toxic.name}' is given twice`, 409);
    toxics.push(toxic);
  }
  return toxics;
}

/** A populate body or config file: a list of proxies, checked whole (no two of one name) before any starts. */
export function checkDefinitionList(value: unknown): ProxyDefinition[] {
  if (!Array.isArray(value)) throw badBody('expected a JSON list of proxies');
  const definitions = value.map((entry, index) => checkDefinition(entry, ` at proxy ${index + 1}`));
  const seen = new Set<string>();
  for (const definition of definitions) {
    if (seen.has(definition.name)) throw new ApiError(`proxy '${definition.name}' is given twice`, 400);
    seen.add(definition.name);
  }
  return definitions;
}

/** `--config FILE`: Toxiproxy's config format (a JSON list of proxies), each may declare `toxics`. Throws UsageError. */
export function readConfigFile(path: string): ProxyDefinition[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return checkDefinitionList(parseBody(text));
  } catch (error) {
    if (error instanceof ApiError) throw new UsageError(`--config ${path}: ${error.message.replace(/^bad request body: /, '')}`);
    throw error;
  }
}
