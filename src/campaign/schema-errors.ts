// Schema errors → problems: ajv's errors for the campaign's JSON Schema, worded for people (the
// expected type in words, a hint per pattern, "did you mean" for an unknown field).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { closestName } from '../util/suggest.js';
import {
  CORRELATE_PATTERN,
  MOCK_PRESET_PATTERN,
  DURATION_PATTERN,
  ENV_NAME_PATTERN,
  HEADER_NAME_PATTERN,
  HTTP_URL_PATTERN,
  UPSTREAM_URL_PATTERN,
  TARGET_URL_PATTERN,
  LATENCY_PATTERN,
  LISTEN_PATTERN,
  METHOD_PATTERN,
  NAME_PATTERN,
  WINDOW_PATTERN,
} from '../util/schema-patterns.js';
import { pathKey, type CheckContext, type Segment } from './check-context.js';
import { CAMPAIGN_SCHEMA } from './schema.js';

let validator: ValidateFunction | undefined;

export function getValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, allowUnionTypes: true, verbose: true, strict: true }).compile(CAMPAIGN_SCHEMA);
  return validator;
}

export const PATTERN_HINTS: Record<string, string> = {
  [DURATION_PATTERN]: 'is not a duration (use e.g. 500ms, 10s, 2m, 1m30s)',
  [WINDOW_PATTERN]: 'is not a window START..END (e.g. 10s..25s)',
  [LATENCY_PATTERN]: 'is not a duration or MIN~MAX range (e.g. 20ms or 10ms~50ms)',
  [NAME_PATTERN]: 'is not a valid name (use letters, digits, _ . -)',
  [LISTEN_PATTERN]: 'is not HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:9101 or 9101)',
  [HTTP_URL_PATTERN]: 'is not an http:// or https:// URL',
  [TARGET_URL_PATTERN]: 'is not an http:// or https:// URL',
  [UPSTREAM_URL_PATTERN]: 'is not an http://, https:// or tcp://HOST:PORT URL',
  [HEADER_NAME_PATTERN]: 'is not a valid header name',
  [METHOD_PATTERN]: 'is not an HTTP method',
  [ENV_NAME_PATTERN]: 'is not a valid environment variable name',
  [CORRELATE_PATTERN]: 'is not auto, header:NAME, body or off',
  [MOCK_PRESET_PATTERN]: 'is not a preset (openai or anthropic), nor true or false',
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

export function reportSchemaError(ctx: CheckContext, error: ErrorObject, data: unknown): void {
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
        ctx.add(
          path,
          `expected a duration such as '10s' or '500ms', got ${describe(ctx, path, error.data)} ` +
            '(a plain number is not a duration: add a unit)',
        );
        return;
      }
      const expected = String(params.type)
        .split(',')
        .map((t) => TYPE_NAMES[t] ?? t);
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

function describe(ctx: CheckContext, path: readonly Segment[], value: unknown): string {
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
