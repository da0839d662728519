import { UsageError } from '../errors.js';
import { tryParseDuration } from '../util/duration.js';
import { comparedMetrics } from '../thresholds/metrics.js';
import { LOAD_OPTIONS, SEED_OPTION } from '../engine/options.js';
import { POLICY_OPTIONS } from '../engine/policy-options.js';
import { FAULT_OPTIONS, MOCK_OPTIONS, PROVIDER_OPTIONS } from '../proxy/config.js';
import { outFlagSummary } from '../report/outputs.js';
import { HALT_OPTIONS } from '../halt/plan.js';
import type { OptionTable } from '../util/option-table.js';

/**
 * The flags that are no option of the library (where results go, which scenario, the proxy's admin
 * API, report and init settings): command-line only, so no campaign key. Commands take their flags
 * from here (flagFor) as the library's options come from LOAD_OPTIONS and the others.
 */
export const COMMAND_OPTIONS = {
  out: {
    flag: 'out',
    char: 'o',
    type: 'strings',
    summary: outFlagSummary('the result'),
    summaries: { run: outFlagSummary('the results of every scenario'), report: outFlagSummary('the (merged) result') },
    shown: 'plain',
  },
  metricsPort: {
    flag: 'metrics-port',
    type: 'integer',
    summary: 'Serve live Prometheus metrics on 127.0.0.1 at this port during the run.',
    shown: 'plain',
  },
  // oclif adds --json itself (enableJsonFlag); this entry says how its value is shown.
  json: { flag: 'json', type: 'boolean', summary: 'Format output as json.', shown: 'plain' },
  failover: {
    flag: 'failover',
    type: 'strings',
    summary: 'Policy mode: a further upstream tried when the first fails (repeatable; each behind its own proxy).',
    shown: 'url',
  },
  scenario: { flag: 'scenario', char: 's', type: 'string', summary: 'Run only this scenario.', shown: 'plain' },
  dryRun: { flag: 'dry-run', type: 'boolean', summary: 'Validate the file and print the plan; send nothing.', shown: 'plain' },
  adminPort: { flag: 'admin-port', type: 'integer', summary: 'Serve the admin API on 127.0.0.1 at this port.', shown: 'plain' },
  adminToken: {
    flag: 'admin-token',
    type: 'string',
    summary: 'Require `Authorization: Bearer TOKEN` on the admin API and the Toxiproxy API.',
    shown: 'secret',
  },
  toxiproxyApi: {
    flag: 'toxiproxy-api',
    type: 'string',
    summary:
      "Serve Toxiproxy's HTTP API at [HOST:]PORT ('8474' is 127.0.0.1:8474): Toxiproxy clients create named TCP proxies " +
      'and toxics, and http_* toxics on proxies with an http:// upstream.',
    shown: 'plain',
  },
  config: {
    flag: 'config',
    type: 'string',
    summary: "With --toxiproxy-api: proxies to start, in Toxiproxy's config format (a JSON list; each may declare its toxics).",
    shown: 'plain',
  },
  tallyEvery: { flag: 'tally-every', type: 'string', summary: 'Seconds between tally lines on a TTY.', default: '5', shown: 'plain' },
  statusEvery: {
    flag: 'status-every',
    type: 'string',
    summary: "Time between status lines on stderr when it is no TTY (CI logs): '1m' (the default), '30s'; '0' for none.",
    shown: 'plain',
  },
  merge: { flag: 'merge', type: 'boolean', summary: 'Merge the shards of one run into its whole result.', shown: 'plain' },
  baseline: { flag: 'baseline', type: 'string', summary: 'An earlier result to compare with.', shown: 'plain' },
  maxRegression: {
    flag: 'max-regression',
    type: 'strings',
    summary: "Allowed relative worsening of latency and rps: '10%' (the default) or 'p99=5%' (repeatable).",
    shown: 'plain',
  },
  minChange: {
    flag: 'min-change',
    type: 'strings',
    summary:
      "Worsening that is never a regression: '1ms' (latency, the default), 'p99=5ms', 'rps=50' (req/s), " +
      "'success_rate=0.5%' (points, the default) (repeatable).",
    shown: 'plain',
  },
  metrics: {
    flag: 'metrics',
    type: 'strings',
    summary: `Also compare these (comma-separated): ${comparedNames(false)}. Always compared: ${comparedNames(true)}.`,
    shown: 'plain',
  },
  force: { flag: 'force', type: 'boolean', summary: 'Overwrite files that exist.', shown: 'plain' },
  file: { flag: 'file', type: 'string', summary: 'Where to write the campaign.', default: 'resil.yaml', shown: 'plain' },
  workflow: {
    flag: 'workflow',
    type: 'string',
    summary: 'Where to write the workflow.',
    default: '.github/workflows/resilience.yml',
    shown: 'plain',
  },
  naive: {
    flag: 'naive',
    type: 'boolean',
    summary: 'Drive the naive gateway instead: immediate retries that ignore Retry-After, a 10 s timeout, no breaker or failover.',
    shown: 'plain',
  },
  quick: { flag: 'quick', type: 'boolean', summary: 'Run the campaign at half length (19 s), as the test suite does.', shown: 'plain' },
} as const satisfies OptionTable;

/** Every table a flag of resil comes from: the library's option groups, then the commands' own flags. */
export const FLAG_TABLES: readonly OptionTable[] = [
  LOAD_OPTIONS,
  { seed: SEED_OPTION },
  POLICY_OPTIONS,
  FAULT_OPTIONS,
  MOCK_OPTIONS,
  PROVIDER_OPTIONS,
  HALT_OPTIONS,
  COMMAND_OPTIONS,
];

function comparedNames(byDefault: boolean): string {
  return comparedMetrics()
    .filter((m) => m.byDefault === byDefault)
    .map((m) => m.name)
    .join(', ');
}

/** `--status-every`: ms between status lines (default 1 min, 0 for none); a bad value is a UsageError. */
export function statusEveryMs(text: string | undefined): number {
  const ms = text === undefined ? 60_000 : tryParseDuration(text);
  // At most a day: Node's timers end at 24.8 days, past which they fire every millisecond.
  if (ms === undefined || ms > 24 * 3600 * 1000)
    throw new UsageError(`--status-every '${text}': expected a duration up to 24h ('1m', '30s') or 0`);
  return ms;
}
