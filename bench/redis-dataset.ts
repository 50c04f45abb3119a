/**
 * @module How much Redis's memory grows through a sequence of writes: `MEMORY STATS` (dataset.bytes and
 * total.allocated) on an emptied server before the first step and after each one.
 *
 * The steps run once unmeasured first. Redis 7 allocates a command's latency histogram
 * (`latency-tracking`, on by default; ~32 KB each) the first time that command runs, keeps it through
 * FLUSHALL, and MEMORY STATS counts it in dataset.bytes. On a fresh server the first 20,000-contract
 * cycle grew the dataset ~640 KB more than every later one: ~30 B per contract that no contract holds
 * (1,131 against 1,100). A running Redis has its histograms already; so do the measured steps, and so
 * does MEMORY itself (its first call's figures do not count the histogram it gets afterwards).
 */
import type { Redis } from 'ioredis';

export interface RedisMemory {
  /** `dataset.bytes`: used memory less Redis's own overhead (client buffers, hash tables, …). */
  dataset: number;
  /** `total.allocated` (used_memory). */
  used: number;
}

/** `MEMORY STATS`'s dataset and allocated bytes, after `settleMs` (clientsCron shrinks query buffers). */
export async function redisMemoryStats(conn: Redis, settleMs: number): Promise<RedisMemory> {
  if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  const raw = (await conn.call('MEMORY', 'STATS')) as unknown[];
  const get = (name: string): number => Number(raw[raw.indexOf(name) + 1] ?? 0);
  return { dataset: get('dataset.bytes'), used: get('total.allocated') };
}

/**
 * Runs `steps` once, empties the server, then measures: the memory before the first step and after each
 * (one entry more than `steps`). FLUSHALL: the server must hold nothing else.
 */
export async function measureRedisMemory(
  conn: Redis,
  steps: readonly (() => Promise<unknown>)[],
  settleMs = 1_200,
): Promise<RedisMemory[]> {
  await conn.call('FLUSHALL');
  for (const step of steps) await step();
  await redisMemoryStats(conn, 0);
  await conn.call('FLUSHALL');
  const out = [await redisMemoryStats(conn, settleMs)];
  for (const step of steps) {
    await step();
    out.push(await redisMemoryStats(conn, settleMs));
  }
  return out;
}
