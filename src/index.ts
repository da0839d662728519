// resil as a library: the CLI is this API plus argument parsing.
export { runLoad, runPlan, type RunHooks, type Progress } from './engine/run.js';
export type { LoadOptions } from './engine/options.js';
export { buildLoadPlan, type LoadPlan } from './engine/plan.js';
export { RESULT_SCHEMA, type ResultDocument, type ThresholdVerdict } from './model/result.js';
export { exitCodeFor } from './report/result.js';
export { renderSummary } from './report/terminal.js';
export { parseThreshold, type Threshold } from './thresholds/parse.js';
export { evaluateThresholds } from './thresholds/evaluate.js';
export { mergeSnapshots, type RecorderSnapshot } from './metrics/snapshot.js';
export { ExitCode, ResilError, UsageError, CouldNotRunError } from './errors.js';
export { startGateway, type GatewayOptions } from './demo/gateway.js';
export { runCampaign, prepareCampaign } from './campaign/run-campaign.js';
export { loadCampaign, parseCampaign } from './campaign/load.js';
export { runChaos, type ChaosOptions } from './chaos/run-chaos.js';
export { startChaosProxy, type ChaosProxy, type ProxyOptions, type ProxyStats } from './proxy/proxy.js';
export { startAdminServer } from './proxy/admin.js';
export type { FaultSettings } from './proxy/config.js';
export type { PolicyOptions } from './engine/policy-options.js';
