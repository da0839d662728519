import { UsageError } from '../errors.js';

/** '127.0.0.1:8081', '[::1]:8081', ':8081' or '8081' → host and port (host defaults to loopback). */
export function parseListen(text: string | undefined, flag = '--listen'): { host: string; port: number } {
  if (text === undefined || text === '') return { host: '127.0.0.1', port: 0 };
  const match = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || !(port >= 0 && port <= 65535)) throw new UsageError(`${flag} '${text}': expected HOST:PORT, e.g. 127.0.0.1:8081`);
  const host = match[1] ?? (match[2] === undefined || match[2] === '' ? '127.0.0.1' : match[2]);
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
