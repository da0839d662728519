import { statusEveryMs } from '../cli/command-options.js';
import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { executeLoad } from '../cli/execute-load.js';
import { loadFlags, loadOptionsFromFlags } from '../cli/load-flags.js';
import type { ResultDocument } from '../model/result.js';
import { UsageError } from '../errors.js';
import { chaosOnlyProblem } from '../thresholds/metrics.js';
import { parseThreshold } from '../thresholds/parse.js';

export default class Load extends BaseCommand {
  static override summary = 'Drive load at an HTTP service and judge the result against thresholds.';
  static override description =
    'Closed model (default): --concurrency connections each loop request → response. Open model (--rate): requests go out on a fixed ' +
    'schedule, on connections opened on demand up to --max-connections, and latency is measured from the scheduled time, so a ' +
    'stalled server shows in the percentiles; requests due but never sent by -d are dropped and count as failed. Exit codes: 0 pass, ' +
    '1 a threshold failed, 2 bad input, 3 the target could not be reached, 130/143 interrupted.';
  static override examples = [
    '<%= config.bin %> load http://127.0.0.1:8080/health -c 50 -d 30s',
    "<%= config.bin %> load http://127.0.0.1:8080/api -r 200 -d 1m -t 'p99<300ms' -t 'success_rate>=0.99'",
    "<%= config.bin %> load http://127.0.0.1:8080/orders -m POST -H 'content-type: application/json' " +
      '--body \'{"id":"{{uuid}}"}\' --out result.json',
  ];
  static override enableJsonFlag = true;
  static override args = {
    url: Args.string({ description: 'Target URL (http:// or https://).' }),
  };
  static override flags = loadFlags;

  async run(): Promise<ResultDocument> {
    const { args, flags } = await this.parse(Load);
    for (const source of flags.threshold ?? []) {
      let metric: string;
      try {
        metric = parseThreshold(source).metric;
      } catch {
        continue; // the plan lists it with the run's other problems
      }
      const problem = chaosOnlyProblem(source, metric, 'use resil chaos');
      if (problem) throw new UsageError(problem);
    }
    return executeLoad(loadOptionsFromFlags(args.url, flags), {
      command: 'load',
      json: this.jsonEnabled(),
      out: flags.out ?? [],
      fromEnvironment: this.shownEnvironment(flags.redact),
      ...(flags['metrics-port'] === undefined ? {} : { metricsPort: flags['metrics-port'] }),
      statusEveryMs: statusEveryMs(flags['status-every']),
    });
  }
}
