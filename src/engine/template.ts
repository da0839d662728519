import { UsageError } from '../errors.js';
import { uuidFrom } from '../util/random.js';

/**
 * Request templating in path and body: {{i}} (request index), {{uuid}}, {{randomInt a b}}.
 * Templates are compiled once; text without placeholders stays a constant with no per-request work.
 */
export type Template = { constant: true; text: string } | { constant: false; render(index: number, random: () => number): string };

type Part = string | ((index: number, random: () => number) => string);

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;

export function compileTemplate(text: string, where: string): Template {
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(compilePlaceholder(match[1]!, where));
    last = match.index + match[0].length;
  }
  if (parts.length === 0) return { constant: true, text };
  if (last < text.length) parts.push(text.slice(last));
  return {
    constant: false,
    render(index, random) {
      let out = '';
      for (const part of parts) out += typeof part === 'string' ? part : part(index, random);
      return out;
    },
  };
}

function compilePlaceholder(expression: string, where: string): Part {
  const words = expression.split(/\s+/);
  switch (words[0]) {
    case 'i':
      if (words.length === 1) return (index) => String(index);
      break;
    case 'uuid':
      if (words.length === 1) return (_index, random) => uuidFrom(random);
      break;
    case 'randomInt': {
      const low = Number(words[1]);
      const high = Number(words[2]);
      if (words.length === 3 && Number.isInteger(low) && Number.isInteger(high) && low <= high) {
        const span = high - low + 1;
        return (_index, random) => String(low + Math.floor(random() * span));
      }
      throw new UsageError(`${where}: '{{${expression}}}' needs two integers, low then high (e.g. {{randomInt 1 100}})`);
    }
  }
  throw new UsageError(`${where}: unknown placeholder '{{${expression}}}' (known: {{i}}, {{uuid}}, {{randomInt a b}})`);
}
