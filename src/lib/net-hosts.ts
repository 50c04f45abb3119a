/**
 * @module Host names and addresses: loopback, IP literals and the `Host` header. Pure.
 */
import { isIP } from 'node:net';

/** True for an address or name that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    h === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(h) ||
    /^::ffff:127\.\d+\.\d+\.\d+$/.test(h)
  );
}

/** The host name of a `Host` header (`name:port`, `[v6]:port`), lower-cased, without port or brackets. */
export function hostOfHeader(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'));
  const i = h.lastIndexOf(':');
  return (i >= 0 && h.indexOf(':') === i ? h.slice(0, i) : h).replace(/\.$/, '');
}

/**
 * May a request with this `Host` be answered? Loopback names and IP literals always (a DNS-rebinding page
 * reaches the server only through a name the attacker controls, never through an IP literal), the bound
 * address, and the configured names (`*` = any).
 */
export function isAllowedHost(
  header: string | undefined,
  bound: string,
  allowed: readonly string[],
): boolean {
  if (header === undefined || header === '') return true;
  const host = hostOfHeader(header);
  if (isLoopbackHost(host) || isIP(host) !== 0) return true;
  if (host === bound.toLowerCase()) return true;
  return allowed.includes('*') || allowed.includes(host);
}
