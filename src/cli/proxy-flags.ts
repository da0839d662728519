import { SEED_OPTION } from '../engine/options.js';
import { FAULT_OPTIONS, MOCK_OPTIONS, PROVIDER_OPTIONS, type FaultSettings } from '../proxy/config.js';
import { PRESET_ONLY_FIELDS, type MockSettings } from '../proxy/mock.js';
import { UsageError } from '../errors.js';
import type { ProxyOptions } from '../proxy/proxy.js';
import type { ProviderName } from '../proxy/providers/provider.js';
import { flagFor, flagsOf, optionsFromFlags } from './option-flags.js';

/**
 * Flags that configure one chaos proxy: where it listens, what is behind it, which faults. The seed is
 * the one of SEED_OPTION, with `resil proxy`'s help line (fault decisions); `resil chaos` takes the
 * option's own line, as there the same flag seeds the requests and the faults.
 */
export const proxyFlags = {
  ...flagsOf(PROVIDER_OPTIONS),
  ...flagsOf(MOCK_OPTIONS, { prefix: 'Mock: ' }),
  ...flagsOf(FAULT_OPTIONS),
  seed: flagFor(SEED_OPTION, { command: 'proxy' }),
};

export function proxyOptionsFromFlags(flags: Record<string, unknown>): ProxyOptions {
  const { mock, ...provider } = optionsFromFlags<Omit<ProxyOptions, 'mock'> & { mock?: ProviderName | 'generic' }>(PROVIDER_OPTIONS, flags);
  const options: ProxyOptions = { ...provider, ...optionsFromFlags<FaultSettings>(FAULT_OPTIONS, flags) };
  const settings = optionsFromFlags<MockSettings>(MOCK_OPTIONS, flags);
  if (mock === undefined || mock === 'generic') {
    // Only a preset reads them: given to anything else they would do nothing.
    const stray = PRESET_ONLY_FIELDS.find((field) => settings[field] !== undefined);
    if (stray !== undefined)
      throw new UsageError(`--${MOCK_OPTIONS[stray].flag} sets a preset's answers: give --mock openai or --mock anthropic`);
  }
  if (mock !== undefined) options.mock = { ...settings, ...(mock === 'generic' ? {} : { preset: mock }) };
  if (flags.seed !== undefined) options.seed = flags.seed as number;
  return options;
}
