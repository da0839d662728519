import { isIPv4, isIPv6, type Server } from 'node:net';
import { CouldNotRunError, UsageError } from '../errors.js';

/** A host name as RFC 1123 has it: dot-separated labels of letters, digits and inner hyphens, one letter at least. */
const HOST_NAME = /^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * '127.0.0.1:8081', 'localhost:8081', '[::1]:8081', ':8081' or '8081' → host and port; no host
 * means 127.0.0.1, nothing at all means 127.0.0.1 on an ephemeral port. Anything else is a
 * UsageError naming the value.
 */
export function parseListen(text: string | undefined, flag = '--listen'): { host: string; port: number } {
  if (text === undefined || text.trim() === '') return { host: '127.0.0.1', port: 0 };
  const trimmed = text.trim();
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$|^(\d{1,5})$/.exec(trimmed);
  const fail = (why: string): never => {
    throw new UsageError(`${flag} '${text}': ${why} (expected HOST:PORT, :PORT or PORT, e.g. 127.0.0.1:8081 or 8081)`);
  };
  if (!match) return fail(/^\d+$/.test(trimmed) || /:\d+$/.test(trimmed) ? 'the port must be 0 to 65535' : 'not an address');
  const port = Number(match[3] ?? match[4]);
  if (port > 65535) return fail(`port ${port} is above 65535`);
  if (match[1] !== undefined) {
    if (!isIPv6(match[1])) fail(`'${match[1]}' is not an IPv6 address`);
    return { host: match[1], port };
  }
  const host = match[2] ?? '';
  if (host === '') return { host: '127.0.0.1', port };
  if (!isIPv4(host) && !HOST_NAME.test(host)) fail(`'${host}' is not an IP address or host name`);
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** How far a listener on `host` can be reached, as `resil proxy` and `resil chaos` print it. */
export function reachOf(host: string): string {
  return isLoopback(host) ? 'loopback only' : 'WARNING: reachable from other hosts';
}

/**
 * A listener that could not open again after a `down` window (something took its port meanwhile): one
 * line on stderr, and the run goes on, its calls refused, rather than a crash.
 */
export function reportListenFailure(error: unknown): void {
  process.stderr.write(`resil: ${error instanceof Error ? error.message : String(error)}\n`);
}

/**
 * Opens `server` (a proxy's listener, HTTP or TCP) on HOST:PORT and gives the port it got. A port in
 * use, an address not on this machine or not allowed is a CouldNotRunError naming proxy `name`.
 */
export function listenOn(server: Server, host: string, port: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(
        error.code === 'EADDRINUSE'
          ? new CouldNotRunError(`proxy ${name}: ${host}:${port} is already in use`)
          : error.code === 'EADDRNOTAVAIL' || error.code === 'EACCES'
            ? new CouldNotRunError(`proxy ${name}: cannot listen on ${host}:${port} (${error.code})`)
            : error,
      );
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(address !== null && typeof address === 'object' ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
