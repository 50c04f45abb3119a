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
  const text = url.trim();
  const port = /^[a-z]+:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)(?:[/?#]|$)/i.exec(text)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535))
    throw new Error(`port ${port} is out of range (1-65535)`);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error('not a valid URL (expected redis[s]://[user[:password]@]host[:port][/db])');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`not a redis URL: ${u.protocol}`);
  const dbText = u.pathname && u.pathname !== '/' ? u.pathname.slice(1) : '0';
  if (!/^\d{1,9}$/.test(dbText))
    throw new Error(`database ${JSON.stringify(dbText.slice(0, 20))} is not a decimal number`);
  const db = Number(dbText);
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
