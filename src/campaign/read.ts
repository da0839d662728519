import { readFileSync } from 'node:fs';
import { isScalar, LineCounter, parseDocument, Parser, type Document } from 'yaml';
import { UsageError } from '../errors.js';

/** The campaign file's text; a missing or unreadable file is a UsageError naming it. */
export function readCampaignText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`campaign file '${path}' not found`);
    throw new UsageError(`campaign file '${path}' cannot be read (${code ?? (error as Error).message})`);
  }
}

/** A parsed YAML document, the line counter that turns its offsets into lines and columns, and its syntax errors. */
export interface ParsedYaml {
  doc: Document;
  lineCounter: LineCounter;
  /** Syntax errors, each at the offset that best shows the cause (an unclosed bracket: where it opens). */
  syntaxErrors: Array<{ offset: number; message: string }>;
}

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // logLevel 'error': problems are reported as ours, never as process warnings on stderr.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, keepSourceTokens: false, logLevel: 'error' });
  return { doc, lineCounter, syntaxErrors: doc.errors.length > 0 ? locateSyntaxErrors(text, doc.errors) : [] };
}

/** The text of a map key as the path segment it names. */
export function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

// ---------------------------------------------------------------------------------------------
// YAML syntax errors. The parser notices an unclosed bracket or quote where the text runs out of
// it (often the next key, or the end of the file); point at the opening character instead.

interface Opener {
  offset: number;
  char: string;
}

function locateSyntaxErrors(
  text: string,
  errors: ReadonlyArray<{ pos: [number, number]; message: string }>,
): Array<{ offset: number; message: string }> {
  const openers = unclosedOpeners(text);
  const used = new Set<Opener>();
  return errors.map((error) => {
    const offset = error.pos[0];
    const wanted = /^Flow sequence/.test(error.message)
      ? '['
      : /^Flow map/.test(error.message)
        ? '{'
        : /^Missing closing (["'])/.exec(error.message)?.[1];
    const opener = wanted === undefined ? undefined : openers.filter((o) => o.char === wanted && o.offset <= offset && !used.has(o)).pop();
    if (!opener) return { offset, message: error.message };
    used.add(opener);
    const closer = { '[': ']', '{': '}' }[opener.char] ?? opener.char;
    return { offset: opener.offset, message: `'${opener.char}' is never closed (expected '${closer}')` };
  });
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
    if (
      t.type === 'flow-collection' &&
      t.start?.source &&
      !(t.end ?? []).some((e) => e.type === 'flow-seq-end' || e.type === 'flow-map-end')
    ) {
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
