import { anthropic } from './anthropic.js';
import { openai } from './openai.js';
import type { ProviderName, ProviderPreset } from './provider.js';

/** Each provider's preset, by the name `--mock` and `--api` take. */
export const PRESETS: Readonly<Record<ProviderName, ProviderPreset>> = { openai, anthropic };
