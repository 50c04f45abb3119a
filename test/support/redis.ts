/**
 * @module Redis test helpers: each test gets its own key prefix on the target server and cleans it up.
 * `redisTargets()` lists the single server and, when the global setup started one, the cluster, so a
 * Redis test is written once and runs on both.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { RedisBus } from '../../src/redis/bus.js';
import { KeySchema } from '../../src/redis/keys.js';

export const SINGLE_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface RedisTarget {
  name: 'single' | 'cluster';
  url: string;
  cluster: boolean;
}

export function redisTargets(): RedisTarget[] {
  const out: RedisTarget[] = [{ name: 'single', url: SINGLE_URL, cluster: false }];
  const clusterUrl = inject('clusterUrl');
  if (clusterUrl) out.push({ name: 'cluster', url: clusterUrl, cluster: true });
  return out;
}

/**
 * The bus as the worker uses it, plus the connection itself (`conn`) for what a test does to or reads from
 * the server beyond the worker's commands: CONFIG, CLIENT PAUSE, SCAN, stream and set reads.
 */
export class TestBus extends RedisBus {
  get conn(): import('ioredis').Redis | import('ioredis').Cluster {
    return this.client;
  }
}

/** A unique key prefix for one test. */
export function testPrefix(): string {
  return `cwtest:${randomBytes(4).toString('hex')}:`;
}

export function testKeys(prefix = testPrefix()): KeySchema {
  return new KeySchema(prefix);
}

/**
 * Deletes every key under `prefix` (on every cluster master): each SCAN batch's keys unlinked in one
 * pipeline on the node that holds them (one round trip per batch: a 20,000-contract test leaves ~50,000
 * keys, and one command each took tens of seconds on a loaded machine); a key that moved meanwhile (MOVED,
 * a resharding test) is deleted through the bus.
 */
export async function cleanupPrefix(bus: TestBus, prefix: string): Promise<void> {
  const clients = bus.isCluster
    ? (bus.conn as import('ioredis').Cluster).nodes('master')
    : [bus.conn as import('ioredis').Redis];
  for (const c of clients) {
    let cursor = '0';
    do {
      const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipe = c.pipeline();
      for (const k of keys) pipe.unlink(k);
      const replies = (await pipe.exec()) ?? [];
      for (const [i, [err]] of replies.entries()) if (err) await bus.conn.del(keys[i] as string);
    } while (cursor !== '0');
  }
}

/** Opens a bus on a target. */
export async function openBus(target: RedisTarget, tls?: { ca: string }): Promise<TestBus> {
  const bus = new TestBus({
    url: target.url,
    cluster: target.cluster,
    name: 'chain-worker-test',
    ...(tls ? { tls } : {}),
  });
  await bus.ready(10_000);
  return bus;
}
