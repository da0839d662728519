import { closestName } from '../util/suggest.js';
import type { FlagShape } from './env-flags.js';

/** What other load tools call some of resil's flags (k6, autocannon, hey, wrk, vegeta). */
const OTHER_TOOLS_NAMES: Readonly<Record<string, string>> = {
  rps: 'rate',
  qps: 'rate',
  vus: 'concurrency',
  connections: 'concurrency',
  amount: 'requests',
  threads: 'workers',
  headers: 'header',
  thresholds: 'threshold',
  output: 'out',
};

/**
 * 'unknown flag --rps (did you mean -r/--rate?)' for the flags oclif did not know, each with the
 * command's nearest flag when there is one: a typo, or the name another tool uses.
 */
export function unknownFlagsMessage(unknown: readonly string[], flags: Readonly<Record<string, FlagShape>>): string {
  const known = Object.keys(flags);
  const parts = unknown.map((token) => {
    const typed = token.split('=')[0]!;
    const name = typed.replace(/^--?/, '');
    const alias = OTHER_TOOLS_NAMES[name.toLowerCase()];
    const match = alias !== undefined && alias in flags ? alias : typed.startsWith('--') ? closestName(name, known) : undefined;
    if (match === undefined) return typed;
    const char = flags[match]!.char;
    return `${typed} (did you mean ${char ? `-${char}/` : ''}--${match}?)`;
  });
  return `unknown flag${parts.length === 1 ? '' : 's'} ${parts.join(', ')}`;
}
