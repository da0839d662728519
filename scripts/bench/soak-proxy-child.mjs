// The chaos proxy as `resil proxy` runs it, in its own process for soak.mjs: one session (calls
// observed and summed up as requests, no per-bin series), a mock upstream, a fifth of the calls
// faulted, and the admin API. Prints {url, admin} once listening; SIGTERM stops it.
import { startAdminServer } from '../../dist/proxy/admin.js';
import { ChaosSession } from '../../dist/session/chaos.js';

const session = await ChaosSession.start(
  [{ mock: {}, failureRate: 0.2, faults: 'status:503=3,reset=1,close=1,truncate=1,malformed=1', seed: 1 }],
  { behaviour: { longestRetryAfterMs: 1000, series: false } },
);
const proxy = session.proxies[0];
const admin = await startAdminServer(proxy, { port: 0 });
process.on('SIGTERM', async () => {
  await admin.close();
  await session.stop();
  process.exit(0);
});
setTimeout(() => process.exit(2), 3 * 60 * 60 * 1000).unref(); // never outlive a lost parent by long
process.stdout.write(`${JSON.stringify({ url: proxy.url, admin: admin.url })}\n`);
