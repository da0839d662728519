import { statusEveryMs } from '../cli/command-options.js';
import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { executeRun } from '../cli/execute-load.js';
import { loadFlags, loadOptionsFromFlags } from '../cli/load-flags.js';
import { flagFor, flagsOf, optionsFromFlags } from '../cli/option-flags.js';
import { HALT_OPTIONS, type HaltSettings } from '../halt/plan.js';
import { SEED_OPTION } from '../engine/options.js';
import { policyFlags, policyOptionsFromFlags } from '../cli/policy-flags.js';
import { proxyFlags, proxyOptionsFromFlags } from '../cli/proxy-flags.js';
import { runChaos } from '../session/chaos.js';
import type { ResultDocument } from '../model/result.js';
import type { ChaosProxy } from '../proxy/chaos-proxy.js';
import { isLoopback, reachOf } from '../proxy/listen.js';

export default class Chaos extends BaseCommand {
  static override summary = "Drive load while a chaos proxy injects faults into the service's dependency traffic.";
  static override description =
    'With a service URL: the proxy listens at --listen (the address your service calls for its dependency) and forwards to ' +
    '--upstream or answers with --mock; load goes to the service and the result shows both sides, with recovery time per fault ' +
    "window and retry amplification. Without a URL (policy mode): resil's own client, with --retries, --backoff, --breaker and " +
    '--failover, is the subject. Judged on success_rate>=0.9 and dependency_calls>0 (a run no dependency call reached proves ' +
    'nothing) next to your -t thresholds; a -t on the same metric replaces the default ' +
    "(-t 'success_rate>=0' accepts any success rate).";
  static override examples = [
    '<%= config.bin %> chaos http://127.0.0.1:3000/v1/complete -m POST --body \'{"prompt":"hi"}\' --listen 127.0.0.1:8081 --mock ' +
      "--failure-rate 0.3 --faults 'status:503=5,timeout=2,reset=1' -d 30s",
    '<%= config.bin %> chaos --mock --failure-rate 0.3 --retries 3 --backoff exp:50ms -r 100 -d 20s',
    '<%= config.bin %> chaos http://127.0.0.1:3000/ --listen 127.0.0.1:8081 --upstream http://127.0.0.1:9000 --faults down ' +
      "--fault-window 10s..20s -d 40s -t 'recovery<5s'",
  ];
  static override enableJsonFlag = true;
  static override args = {
    url: Args.string({ description: 'The service under test (omit for policy mode).' }),
  };
  static override flags = { ...loadFlags, ...proxyFlags, ...policyFlags, ...flagsOf(HALT_OPTIONS), seed: flagFor(SEED_OPTION) };

  async run(): Promise<ResultDocument> {
    const { args, flags } = await this.parse(Chaos);
    const policyMode = args.url === undefined;
    const load = loadOptionsFromFlags(args.url, flags);
    if (policyMode) load.policy = policyOptionsFromFlags(flags);
    const options = {
      load: policyMode ? { ...load, url: undefined } : load,
      proxy: proxyOptionsFromFlags(flags),
      ...(flags.failover ? { failover: flags.failover } : {}),
      halt: optionsFromFlags<HaltSettings>(HALT_OPTIONS, flags),
      log: (line: string) => process.stderr.write(`${line}\n`),
      onProxyStart: (proxy: ChaosProxy) => {
        if (!this.jsonEnabled())
          process.stderr.write(
            `resil chaos: proxy ${proxy.name} listening on ${proxy.url} (${reachOf(proxy.host)}) ` +
              `→ ${proxy.target} · seed ${proxy.seed}\n`,
          );
        // With --json the exposure warning still goes to stderr: it is about safety, not the result.
        else if (!isLoopback(proxy.host))
          process.stderr.write(`resil chaos: proxy ${proxy.name} on ${proxy.url}: ${reachOf(proxy.host)}\n`);
      },
    };
    return executeRun((hooks) => runChaos(options, hooks), {
      command: 'chaos',
      json: this.jsonEnabled(),
      out: flags.out ?? [],
      fromEnvironment: this.shownEnvironment(flags.redact),
      ...(flags['metrics-port'] === undefined ? {} : { metricsPort: flags['metrics-port'] }),
      statusEveryMs: statusEveryMs(flags['status-every']),
    });
  }
}
