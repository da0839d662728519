import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactUrl } from '../util/redact.js';

/** The JSON Schema of campaign files, as shipped with this copy of resil. */
const SCHEMA_FILE = fileURLToPath(new URL('../../schema/resil.schema.json', import.meta.url));

/**
 * The editor's schema line for a campaign at `campaignFile` (absolute): a relative path to this
 * resil's schema when that lies inside the project (resil installed in node_modules, or the resil
 * repository itself), else a pointer to where the schema is. Never a path that would not resolve.
 */
export function schemaComment(campaignFile: string, projectRoot: string, schemaFile: string = SCHEMA_FILE): string {
  const inProject = relative(projectRoot, schemaFile);
  if (existsSync(schemaFile) && !inProject.startsWith('..') && !isAbsolute(inProject)) {
    const path = relative(dirname(campaignFile), schemaFile).split(sep).join('/');
    return `# yaml-language-server: $schema=${path.startsWith('.') ? path : `./${path}`}`;
  }
  return '# Editor completion: point a `# yaml-language-server: $schema=` line at schema/resil.schema.json from resil.';
}

/** A commented starter campaign for one endpoint: a steady scenario and a chaos scenario to fill in. */
export function starterCampaign(url: URL, schemaLine: string): string {
  const target = redactUrl(url.toString());
  return `${schemaLine}
#
# resil campaign: \`resil run\` runs every scenario in order and exits 1 if a threshold fails.
# Durations: 500ms, 10s, 2m. Values can come from the environment: \${TARGET_URL:-${target}}.

defaults:
  url: \${TARGET_URL:-${target}}
  timeout: 5s
  concurrency: 20

# Chaos proxies in front of your service's dependencies. Point the service at \`listen\`
# (e.g. its PAYMENTS_URL) and give the real dependency as \`upstream\`, or use a mock.
providers:
  dependency:
    listen: 127.0.0.1:8081
    mock: { latency: 20ms~50ms }
    # upstream: http://127.0.0.1:9000

# Optional: let resil start your service and wait until it is ready.
# service:
#   command: npm start
#   env: { DEPENDENCY_URL: http://127.0.0.1:8081 }
#   ready: ${target}
#   ready-timeout: 30s

scenarios:
  # Steady load in the open model: 50 requests a second, latency measured from the schedule.
  - name: steady
    rate: 50
    duration: 30s
    thresholds:
      - success_rate>=0.99
      - p99<300ms

  # The dependency fails 30% of calls for 20 s, then is down for 10 s: does the service hold,
  # and how fast does it recover?
  - name: dependency-failures
    type: chaos
    rate: 50
    duration: 60s
    phases:
      - at: 10s
        for: 20s
        providers:
          dependency: { failure-rate: 0.3, faults: 'status:503=5,status:429=2,timeout=2,reset=1' }
      - at: 35s
        for: 10s
        providers:
          dependency: { faults: down }
    thresholds:
      - success_rate>=0.95
      - p99<1s
      - recovery<5s
      - amplification<=2
`;
}

/**
 * A GitHub Actions workflow that runs the campaign through resil's action and keeps its reports.
 * It needs no Node project: the action sets up Node and builds resil from its own checkout.
 * `campaign` is the campaign's path from the repository root.
 */
export function starterWorkflow(campaign: string): string {
  const input = /^[\w./-]+$/.test(campaign) ? campaign : JSON.stringify(campaign);
  return `# Resilience gate: runs ${campaign} with resil on every pull request; a missed threshold fails the check.
#
# OWNER is a placeholder: replace it with the GitHub account or organisation that hosts resil.
# @main follows that repository's main branch; a tag or a commit SHA there pins a version.
name: resilience
on:
  pull_request:
  push:
    branches: [main]
jobs:
  resilience:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v5
      # Start your service here if the campaign has no \`service:\` section.
      - name: Resilience gate
        id: resil
        uses: OWNER/resil@main
        with:
          campaign: ${input}
      - name: Keep the reports
        if: always()
        uses: actions/upload-artifact@v6
        with:
          name: resil-results
          path: resil-results/
`;
}
