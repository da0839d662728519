// Shared by the generator children (gen-*.mjs): parses argv, brackets one load run with
// process.cpuUsage(), and prints a single JSON line on stdout for run.mjs to read.
//
// Usage in a child: node gen-X.mjs <url> <concurrency> <seconds>

/** The settings run.mjs passes on the command line. */
export function settingsFromArgv() {
  const [url, concurrency, seconds] = process.argv.slice(2);
  const settings = { url, concurrency: Number(concurrency), seconds: Number(seconds) };
  if (!url || !(settings.concurrency > 0) || !(settings.seconds > 0)) {
    throw new Error(`usage: node ${process.argv[1]} <url> <concurrency> <seconds>`);
  }
  return settings;
}

/**
 * Runs `load()` (which must resolve to { requests, durationMs, rps, p50Ms, p99Ms, errors })
 * and prints it plus cpuUs: user + system CPU time in microseconds, of the whole process (all
 * threads), measured immediately before and after the call only, so module loading is excluded.
 */
export async function measureAndPrint(load) {
  const before = process.cpuUsage();
  const figures = await load();
  const used = process.cpuUsage(before); // µs, delta since `before`
  const line = JSON.stringify({ ...figures, cpuUs: used.user + used.system, cpuUserUs: used.user, cpuSystemUs: used.system });
  // Exit once the line is flushed: keep-alive sockets left open by a client must not keep us alive.
  process.stdout.write(`${line}\n`, () => process.exit(0));
}
