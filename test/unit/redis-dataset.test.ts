/**
 * The benchmark's Redis memory measurement (bench/redis-dataset.ts) on a throw-away redis-server: the
 * growth it reports does not depend on what the server ran before. Redis 7 allocates a command's
 * latency histogram on the command's first call and counts it in MEMORY STATS' dataset.bytes, so on a
 * fresh server a first measured run grew by the histograms too.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureRedisMemory } from '../../bench/redis-dataset.js';
import { RedisServerProcess } from '../../tools/redis-servers.js';

const KEYS = 500;
const VALUE = 'x'.repeat(200);

describe('measureRedisMemory', () => {
  let server: RedisServerProcess;
  let conn: Redis;
  beforeAll(async () => {
    server = new RedisServerProcess();
    await server.start();
    conn = new Redis(server.url, { lazyConnect: true });
    await conn.connect();
  });
  afterAll(async () => {
    conn.disconnect();
    await server.destroy();
  });

  // Several command types, each called here for the first time on this server.
  const writes = async (): Promise<void> => {
    const p = conn.pipeline();
    for (let i = 0; i < KEYS; i++) p.set(`s:${i}`, VALUE, 'EX', 600);
    p.hset('h', 'a', VALUE);
    p.zadd('z', 1, 'a');
    p.sadd('t', 'a');
    p.rpush('l', 'a');
    p.xadd('x', '*', 'a', VALUE);
    await p.exec();
  };

  // The default settling time (clientsCron shrinks the query buffer the writes grew, which MEMORY STATS
  // counts as overhead: measured at once, the dataset moved by up to its size).
  it('reports the same growth on a fresh server as on one that has run the writes', async () => {
    const [first0, first1] = await measureRedisMemory(conn, [writes]);
    const [again0, again1] = await measureRedisMemory(conn, [writes]);
    const first = (first1?.dataset ?? 0) - (first0?.dataset ?? 0);
    const again = (again1?.dataset ?? 0) - (again0?.dataset ?? 0);
    // 500 values of 200 bytes (224-byte allocations with their headers) and their keys, and little more.
    expect(first).toBeGreaterThan(KEYS * (224 + 8));
    expect(first).toBeLessThan(KEYS * 2 * VALUE.length);
    // Without the warm-up run: ~25–32 KB per command type (nine here) more on the fresh server.
    expect(Math.abs(first - again)).toBeLessThan(8 * 1024);
    expect(await conn.dbsize()).toBe(KEYS + 5);
  });

  it('measures after each step, starting from an emptied server', async () => {
    await conn.set('left-over', VALUE);
    const stats = await measureRedisMemory(conn, [writes, () => conn.set('one-more', VALUE)]);
    expect(stats).toHaveLength(3);
    expect(await conn.exists('left-over')).toBe(0);
    const [s0, s1, s2] = stats.map((s) => s.dataset);
    expect(s1! - s0!).toBeGreaterThan(KEYS * (224 + 8));
    // One key of 8 bytes and a value of 200: more than the value, less than twice it.
    expect(s2! - s1!).toBeGreaterThan(VALUE.length);
    expect(s2! - s1!).toBeLessThan(2 * VALUE.length);
  });
});
