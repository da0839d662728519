import { BaseCommand } from '../cli/base.js';
import { COMMAND_OPTIONS } from '../cli/command-options.js';
import { flagFor } from '../cli/option-flags.js';
import { executeCampaign } from '../cli/execute-campaign.js';
import { prepareCampaign } from '../campaign/run-campaign.js';
import { demoCampaign, freePorts } from '../demo/campaign.js';
import { startGateway } from '../demo/gateway.js';

export default class Demo extends BaseCommand {
  static override summary =
    'The chaos demo: an example LLM gateway, two mock providers, a campaign of provider failures (offline, loopback only).';
  static override description =
    'Starts two mock OpenAI providers behind chaos proxies and the example gateway (timeouts, retries with backoff that honour ' +
    'Retry-After, a circuit breaker per provider, failover from A to B, until the first token of a streamed answer), then runs a ' +
    '37-second campaign: plain completions under steady load, A failing 30% of calls, A failing every call, both down, recovery; ' +
    'then streamed completions, A failing before the first token (absorbed) and after it (failed as stream: nothing can absorb ' +
    'those). Prints the summary with recovery, amplification, time to first event (ttft) and what the gateway did with its provider ' +
    'calls (Retry-After, attempts, timeouts, breaker, failover), and exits 0 when the gateway holds its thresholds. --naive runs ' +
    'the same campaign against a gateway with none of that (up to 4 calls to A sent at once, Retry-After ignored, a 10 s timeout), ' +
    'which fails the gate (exit 1).';
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --naive', '<%= config.bin %> demo --json'];
  static override enableJsonFlag = true;
  static override flags = {
    naive: flagFor(COMMAND_OPTIONS.naive),
    quick: flagFor(COMMAND_OPTIONS.quick),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Demo);
    const [a, b] = await freePorts(2);
    const gateway = await startGateway({
      providerA: `http://127.0.0.1:${a}`,
      providerB: `http://127.0.0.1:${b}`,
      naive: flags.naive,
      callTimeoutMs: 300,
      idleTimeoutMs: 500,
      retries: 2,
      baseBackoffMs: 20,
      breakerFailures: 5,
      breakerCooldownMs: 1000,
    });
    try {
      const campaign = demoCampaign({ gatewayUrl: gateway.url, providerPorts: [a!, b!], quick: flags.quick });
      if (!this.jsonEnabled())
        process.stderr.write(
          `resil demo: ${flags.naive ? 'naive' : 'resilient'} gateway on ${gateway.url}, providers a and b on 127.0.0.1:${a} and :${b}\n`,
        );
      const settings = { json: this.jsonEnabled(), out: [], fromEnvironment: this.shownEnvironment() };
      return await executeCampaign(campaign, prepareCampaign(campaign), settings);
    } finally {
      await gateway.close();
    }
  }
}
