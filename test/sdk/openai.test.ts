import { describeSdk } from './sdk-cases.js';

// The official OpenAI SDK (`openai`, the newest major that runs on Node 20) against the chaos proxy.
// OpenAI has no 529 of its own: the SDK retries it as any 5xx and throws its InternalServerError. It
// takes `Retry-After: 0` (and `retry-after-ms: 0`) at its word and retries at once.
describeSdk('openai', { overloadedError: 'InternalServerError', retryAfterZero: 'at once' });
