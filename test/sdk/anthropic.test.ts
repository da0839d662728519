import { describeSdk } from './sdk-cases.js';

// The official Anthropic SDK (`@anthropic-ai/sdk`) against the chaos proxy. 529 is Anthropic's
// "overloaded": the SDK retries it as any 5xx and throws its own OverloadedError. A `Retry-After` of 0
// (or one a timer cannot hold) falls back to its backoff.
describeSdk('anthropic', { overloadedError: 'OverloadedError', retryAfterZero: 'backoff' });
