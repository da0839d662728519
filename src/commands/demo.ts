import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { executeLoad } from '../cli/execute-load.js';
import { startExampleService } from '../demo/service.js';
import type { ResultDocument } from '../report/result.js';

export default class Demo extends BaseCommand {
  static override summary = 'Run a short campaign against an embedded example service (offline, loopback only).';
  static override description =
    'Starts an example JSON service on 127.0.0.1 (an ephemeral port) and drives it for a few seconds in the open model, then prints the summary and exits as `resil load` would.';
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --json'];
  static override enableJsonFlag = true;
  static override flags = {
    duration: Flags.string({ char: 'd', summary: 'How long to drive the example service.', default: '3s' }),
    rate: Flags.integer({ char: 'r', summary: 'Requests per second.', default: 200 }),
  };

  async run(): Promise<ResultDocument> {
    const { flags } = await this.parse(Demo);
    const service = await startExampleService();
    try {
      return await executeLoad(
        {
          url: `${service.url}/v1/complete`,
          method: 'POST',
          headers: ['content-type: application/json'],
          body: '{"prompt":"request {{i}}"}',
          rate: flags.rate,
          duration: flags.duration,
          concurrency: 20,
          expectJson: ['result=ok'],
          thresholds: ['success_rate>=0.99', 'p99<250ms'],
        },
        { command: 'demo', json: this.jsonEnabled(), out: [] },
      );
    } finally {
      await service.close();
    }
  }
}
