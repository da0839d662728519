import { redactUrl } from '../util/redact.js';

/** A commented starter campaign for one endpoint: a steady scenario and a chaos scenario to fill in. */
export function starterCampaign(url: URL): string {
  const target = redactUrl(url.toString());
  return `# yaml-language-server: $schema=./node_modules/resil/schema/resil.schema.json
#
# resil campaign: \`npx resil run\` runs every scenario in order and exits 1 if a threshold fails.
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

/** A GitHub Actions workflow that runs the campaign as a gate and keeps its reports. */
export function starterWorkflow(campaignFile: string): string {
  return `# Resilience gate: runs ${campaignFile} with resil on every pull request.
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
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm ci
      # Start your service here if the campaign has no \`service:\` section.
      - name: resil
        run: npx --yes resil run ${campaignFile} --out resil-results/result.json --out resil-results/junit.xml
      - name: Keep the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: resil-results
          path: resil-results/
`;
}
