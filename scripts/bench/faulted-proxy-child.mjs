// A resil chaos proxy in its own process for proxy-fds.mjs: mock upstream, half of all calls faulted
// with the mix given as the first argument. Prints {url} once listening; SIGTERM stops it.
import { startChaosProxy } from '../../dist/proxy/proxy.js';

const proxy = await startChaosProxy({ mock: {}, failureRate: 0.5, faults: process.argv[2], seed: 1 });
process.on('SIGTERM', async () => {
  await proxy.close();
  process.exit(0);
});
setTimeout(() => process.exit(2), 15 * 60 * 1000).unref(); // never outlive a lost parent by long
process.stdout.write(`${JSON.stringify({ url: proxy.url })}\n`);
