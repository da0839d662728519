// Runs the example LLM gateway (src/demo/gateway.ts) in front of two completion providers.
// Build first (`npm run build`), then:
//   PROVIDER_A_URL=http://127.0.0.1:4001 PROVIDER_B_URL=http://127.0.0.1:4002 node examples/llm-gateway/server.mjs
// Environment: PROVIDER_A_URL, PROVIDER_B_URL (required), PORT (default 3000),
// GATEWAY_MODE=resilient|naive (default resilient); tuning: GATEWAY_CALL_TIMEOUT_MS, GATEWAY_IDLE_TIMEOUT_MS,
// GATEWAY_RETRIES, GATEWAY_BACKOFF_MS, GATEWAY_BREAKER_FAILURES, GATEWAY_BREAKER_COOLDOWN_MS.
import { startGateway } from '../../dist/demo/gateway.js';

const providerA = process.env.PROVIDER_A_URL;
const providerB = process.env.PROVIDER_B_URL;
const mode = process.env.GATEWAY_MODE ?? 'resilient';
const port = Number(process.env.PORT ?? 3000);

if (!providerA || !providerB) {
  console.error('set PROVIDER_A_URL and PROVIDER_B_URL (e.g. http://127.0.0.1:4001)');
  process.exit(2);
}
if (mode !== 'resilient' && mode !== 'naive') {
  console.error(`GATEWAY_MODE must be "resilient" or "naive", not "${mode}"`);
  process.exit(2);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, not "${process.env.PORT}"`);
  process.exit(2);
}

// Optional tuning (ms / counts); unset means the gateway's defaults.
const tuning = {};
for (const [variable, option] of [
  ['GATEWAY_CALL_TIMEOUT_MS', 'callTimeoutMs'],
  ['GATEWAY_IDLE_TIMEOUT_MS', 'idleTimeoutMs'],
  ['GATEWAY_RETRIES', 'retries'],
  ['GATEWAY_BACKOFF_MS', 'baseBackoffMs'],
  ['GATEWAY_BREAKER_FAILURES', 'breakerFailures'],
  ['GATEWAY_BREAKER_COOLDOWN_MS', 'breakerCooldownMs'],
]) {
  const text = process.env[variable];
  if (text === undefined || text === '') continue;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${variable} must be a whole number, not "${text}"`);
    process.exit(2);
  }
  tuning[option] = value;
}

const gateway = await startGateway({ providerA, providerB, naive: mode === 'naive', host: '127.0.0.1', port, ...tuning });
console.log(`gateway listening on http://127.0.0.1:${gateway.port} (${mode})`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await gateway.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
