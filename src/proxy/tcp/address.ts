import { isIPv6 } from 'node:net';
import { UsageError } from '../../errors.js';

/** A TCP endpoint. */
export interface TcpAddress {
  host: string;
  port: number;
}

/**
 * 'tcp://HOST:PORT', or Toxiproxy's bare 'HOST:PORT' ('[::1]:6379' for IPv6) → host and port. Any
 * other scheme is refused with what to use instead.
 */
export function parseTcpAddress(text: string, what = 'upstream'): TcpAddress {
  const trimmed = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed);
  if (scheme && scheme[1]!.toLowerCase() !== 'tcp') {
    throw new UsageError(`${what} '${trimmed}': a TCP proxy takes tcp://HOST:PORT (an ${scheme[1]}:// upstream needs the HTTP proxy)`);
  }
  const rest = scheme ? trimmed.slice(scheme[0].length).replace(/\/$/, '') : trimmed;
  const match = /^(?:\[([^\]]+)\]|([^:[\]/]+)):(\d{1,5})$/.exec(rest);
  const port = Number(match?.[3]);
  if (!match || !(port >= 1 && port <= 65535) || (match[1] !== undefined && !isIPv6(match[1]))) {
    throw new UsageError(`${what} '${trimmed}': expected tcp://HOST:PORT with a port from 1 to 65535 (e.g. tcp://127.0.0.1:6379)`);
  }
  return { host: match[1] ?? match[2]!, port };
}

/** 'HOST:PORT', IPv6 hosts in brackets. */
export function formatTcpAddress({ host, port }: TcpAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
