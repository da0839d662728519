// What the campaign checks need of the loader's problem list (Context in load.ts, which holds the YAML
// document and so knows every path's line and column), the shapes of the raw campaign they read, and
// how a path is keyed (pathKey) and shown in messages (formatPath), also for campaigns built in code.

/** A step of a path in the campaign: a map key or a list index. */
export type Segment = string | number;
/** A map of the campaign as parsed (kebab-case keys), before mapping to typed objects. */
export type Raw = Record<string, unknown>;

export interface CheckContext {
  /** Paths holding an unset ${VAR} (as pathKey writes them): schema errors there follow from it and are not reported. */
  readonly unresolved: ReadonlySet<string>;
  /** A problem at the node of `path` (or its key, with atKey). */
  add(path: readonly Segment[], message: string, options?: { atKey?: boolean; shownPath?: readonly Segment[] }): void;
  markReported(path: readonly Segment[]): void;
  /** True when a problem was already reported at exactly this path (so a later check stays quiet). */
  isReported(path: readonly Segment[]): boolean;
  /** The value at `path` as the user wrote it, quoted for messages (never a substituted value). */
  show(path: readonly Segment[], value: unknown): string;
  /** Runs a check that throws UsageError; its message becomes a problem at `path`. */
  attempt(path: readonly Segment[], fn: () => unknown, where?: string): boolean;
}

export function pathKey(path: readonly Segment[]): string {
  return JSON.stringify(path.map(String));
}

/** ['scenarios', 1, 'duration'] → 'scenarios[1].duration'. */
export function formatPath(path: readonly Segment[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
