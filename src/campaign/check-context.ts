// What the campaign checks need of the loader's problem list (Context in load.ts, which holds the YAML
// document and so knows every path's line and column), and the shapes of the raw campaign they read.

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
