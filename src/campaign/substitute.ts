import { isMap, isScalar, isSeq, Scalar } from 'yaml';
import { secretPieces } from '../util/redact.js';
import type { Segment } from './check-context.js';
import { keyText } from './read.js';

// ${VAR} substitution, on string values after parsing (so positions stay those of the file).

/** ${NAME}, or ${NAME:-default} (the default when NAME is unset or empty, as in the shell); $${NAME} is literal. */
const VARIABLE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface Substitution {
  /** The scalar's text before ${VAR} was replaced: what messages show. */
  original: string;
  /** The values the environment gave. */
  values: string[];
}

export interface Substituted {
  /** Each scalar a variable was replaced in (its value is now the result). */
  substitutions: Map<Scalar, Substitution>;
  /** Each variable used but not set: where it is written, and the problem. */
  unset: Array<{ offset: number; path: Segment[]; message: string }>;
  /** Every value taken from the environment, with its pieces: no message about the campaign may show them. */
  secrets: string[];
}

/** Replaces ${VAR} in every string value of the document (in place) from `env`. */
export function substituteVariables(root: unknown, sourceText: string, env: NodeJS.ProcessEnv): Substituted {
  const found: Substituted = { substitutions: new Map(), unset: [], secrets: [] };
  substitute(found, sourceText, root, [], env);
  for (const substitution of found.substitutions.values()) found.secrets.push(...substitution.values.flatMap(secretPieces));
  return found;
}

function substitute(found: Substituted, sourceText: string, node: unknown, path: Segment[], env: NodeJS.ProcessEnv): void {
  if (isMap(node)) {
    for (const pair of node.items) substitute(found, sourceText, pair.value, [...path, keyText(pair.key)], env);
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) substitute(found, sourceText, item, [...path, index], env);
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
        const offset = variableOffset(sourceText, node, `\${${name}}`, occurrence);
        found.unset.push({ offset, path, message: `environment variable '${name}' is not set (used as \${${name}})` });
        return token;
      }
      values.push(value);
      return value;
    });
    if (result === original) return;
    found.substitutions.set(node, { original, values });
    node.value = node.type === Scalar.PLAIN ? resolvePlain(result) : result;
  }
}

/** Offset of the n-th `${NAME}` in the scalar's source text (the scalar's start when not found). */
function variableOffset(sourceText: string, node: Scalar, token: string, occurrence: number): number {
  const [start, end] = node.range ?? [0, 0];
  const source = sourceText.slice(start, end);
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
