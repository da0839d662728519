/**
 * The two rules on where a scenario puts faults, worded once: for the file loader (which places
 * them at a line and column) and for campaigns built in code (checked before a run).
 */

/** A provider named under a scenario's faults or phases must be declared under providers. */
export function unknownProviderProblem(name: string, declared: readonly string[]): string | undefined {
  if (declared.includes(name)) return undefined;
  const known = declared.length > 0 ? `declared: ${declared.join(', ')}` : 'no providers are declared';
  return `unknown provider '${name}' (${known})`;
}

/** Faults and phases act in chaos scenarios only: a load scenario runs against healthy providers. */
export function chaosOnlyFieldProblem(field: 'faults' | 'phases', type: unknown): string | undefined {
  return type === 'chaos' ? undefined : `${field} apply to chaos scenarios only (set type: chaos)`;
}

/** The fields of a scenario these rules look at (typed or as in the file: the keys are the same). */
export interface FaultTargets {
  type?: string;
  faults?: Readonly<Record<string, unknown>>;
  phases?: ReadonlyArray<{ providers: Readonly<Record<string, unknown>> }>;
}

/** Where a scenario (defaults applied) breaks either rule: the path from the scenario, and the problem. */
export function faultTargetProblems(
  scenario: FaultTargets,
  declared: readonly string[],
): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const check = (path: Array<string | number>, message: string | undefined) => {
    if (message !== undefined) problems.push({ path, message });
  };
  for (const field of ['faults', 'phases'] as const) {
    if (scenario[field] !== undefined) check([field], chaosOnlyFieldProblem(field, scenario.type));
  }
  for (const name of Object.keys(scenario.faults ?? {})) check(['faults', name], unknownProviderProblem(name, declared));
  (scenario.phases ?? []).forEach((phase, i) => {
    for (const name of Object.keys(phase.providers)) check(['phases', i, 'providers', name], unknownProviderProblem(name, declared));
  });
  return problems;
}
