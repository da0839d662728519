import { measurePlan, type EngineHooks } from '../engine/run.js';
import type { LoadOptions } from '../engine/options.js';
import { buildLoadPlan, type LoadPlan } from '../engine/plan.js';
import type { ChaosFacts, ResultDocument } from '../model/result.js';
import { buildResultDocument, type RunFacts } from '../report/result.js';

export interface RunHooks extends EngineHooks {
  /** Name recorded as the result's `command` (default 'load'). */
  command?: string;
  /** Called once the run is over, before the result is built (chaos: the proxies' counts). */
  collectChaos?: () => Promise<ChaosFacts>;
}

/** Runs a load campaign and returns its result document (thresholds evaluated). */
export async function runLoad(options: LoadOptions, hooks: RunHooks = {}): Promise<ResultDocument> {
  return runPlan(buildLoadPlan(options), hooks);
}

/** Runs a plan (the engine measures) and builds its result document from the measurement and the chaos facts. */
export async function runPlan(plan: LoadPlan, hooks: RunHooks = {}): Promise<ResultDocument> {
  const measurement = await measurePlan(plan, hooks);
  const facts: RunFacts = { command: hooks.command ?? 'load', ...measurement };
  const chaos = await hooks.collectChaos?.();
  if (chaos) facts.chaos = chaos;
  return buildResultDocument(plan, facts);
}
