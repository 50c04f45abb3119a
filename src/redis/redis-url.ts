/**
 * @module Parses redis:// and rediss:// URLs (one, or several comma-separated cluster seeds). Pure.
 */

export interface RedisEndpoint {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
}

/** Parses `redis[s]://[user[:password]@]host[:port][/db]`. */
export function parseRedisUrl(url: string): RedisEndpoint {
  const u = new URL(url.trim());
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`not a redis URL: ${u.protocol}`);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error('bad database number in redis URL');
  const out: RedisEndpoint = {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    tls: u.protocol === 'rediss:',
  };
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  return out;
}

/** Parses a comma-separated list of URLs. */
export function parseRedisUrls(urls: string): RedisEndpoint[] {
  return urls
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseRedisUrl);
}
