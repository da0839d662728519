import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readResultFile } from '../../src/report/read.js';
import type { ResultDocument } from '../../src/model/result.js';
import { behaviourFixture } from '../helpers/behaviour-fixture.js';

const FILE = fileURLToPath(new URL('../fixtures/behaviour-result.json', import.meta.url));

/** The fixture as a run writes a result: pretty JSON and a final newline. */
const text = () => `${JSON.stringify(behaviourFixture(), null, 2)}\n`;

describe('test/fixtures/behaviour-result.json', () => {
  if (process.env.RESIL_UPDATE_FIXTURES === '1') writeFileSync(FILE, text());

  test('is what the observer makes of the synthetic calls today (RESIL_UPDATE_FIXTURES=1 rewrites it)', () => {
    expect(readFileSync(FILE, 'utf8')).toBe(text());
  });

  test('reads as a result, with the behaviour section and verdicts on one provider', () => {
    const [{ name, document }] = readResultFile(FILE) as [{ name: string; document: ResultDocument }];
    expect(name).toBe('provider outage');
    expect(Object.keys(document.behaviour!.providers)).toEqual(['openai', 'anthropic']);
    expect(document.thresholds.filter((t) => t.provider !== undefined).map((t) => [t.expression, t.provider, t.formatted])).toEqual([
      ['breaker_open_after{openai}<2s', 'openai', '500.0ms'],
      ['failover_delay_p99{anthropic}<50ms', 'anthropic', '1.09s'],
      ['dependency_calls{anthropic}>0', 'anthropic', '145'],
      ['dependency_timeout_max{anthropic}<1s', 'anthropic', 'n/a'],
    ]);
    // Three verdicts fail with what the service did, one is n/a and says which fault would exercise it.
    expect(document.thresholds.filter((t) => !t.ok).map((t) => t.expression)).toEqual([
      'retry_after_violations==0',
      'failover_delay_p99{anthropic}<50ms',
      'non_retryable_retries==0',
      'dependency_timeout_max{anthropic}<1s',
    ]);
  });
});
