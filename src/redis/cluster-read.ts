/**
 * @module Many GETs on a Redis Cluster that survive resharding and failover.
 *
 * Why not the cluster client's auto-pipelining: it batches GETs of many slots into one pipeline per node;
 * when some of them come back `MOVED` (a reshard moved their slots) with different slot numbers, ioredis
 * rejects each with its `MOVED` and neither retries nor refreshes its slot map, so a process that only
 * reads (a standalone builder) asks the wrong node forever.
 *
 * Here: keys are grouped by the node that serves their slot, each group is one pipeline of GETs on that
 * node's connection, and every reply is looked at. `MOVED` records the new owner of the slot and
 * refreshes the slot map; `ASK` (a slot being migrated) re-asks the named node behind `ASKING`;
 * `TRYAGAIN`, `CLUSTERDOWN`, `LOADING` and lost connections wait (exponential backoff) and retry. Only
 * the keys still unanswered are asked again; after {@link READ_RETRY} attempts the read fails with a
 * {@link ClusterReadError} carrying the last error.
 */
import type { Cluster, Redis } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { ClusterReadError, isConnectionError, isRetryableRedisError, replyCode } from './errors.js';

export const READ_RETRY = {
  /** Attempts in all (the first included). */
  attempts: 10,
  /** Backoff before attempt n (n ≥ 1) is min(baseMs × 2^(n-1), maxMs); redirects alone retry at once. */
  baseMs: 50,
  maxMs: 800,
} as const;

/** Keys per pipeline (a 20,000-key read becomes ~20 pipelines spread over the masters). */
const PIPELINE_KEYS = 1_000;

type Reader = 'get' | 'getBuffer';

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Refreshes the cluster client's slot map (resolves either way, bounded by the client's refresh timeout). */
export function refreshSlots(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => cluster.refreshSlotsCache(() => resolve()));
}

function addrOf(node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

/** Reads `keys` with GET (strings) or GET as Buffers, in order; missing keys are null. */
export async function clusterGetMany<T extends string | Buffer>(
  cluster: Cluster,
  keys: readonly string[],
  reader: Reader,
): Promise<(T | null)[]> {
  const out: (T | null)[] = new Array<T | null>(keys.length).fill(null);
  const slotOf = keys.map((k) => calculateSlot(k));
  /** A slot's new owner from a MOVED, used until the refreshed map agrees. */
  const moved = new Map<number, string>();
  /** key index → node that answered ASK for it. */
  let asked = new Map<number, string>();
  let pending = keys.map((_, i) => i);
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    const nodes = new Map<string, Redis>();
    for (const n of cluster.nodes('all')) nodes.set(addrOf(n), n);
    const groups = new Map<string, { asking: boolean; idx: number[] }>();
    for (const i of pending) {
      const slot = slotOf[i] as number;
      const askNode = asked.get(i);
      const node = askNode ?? moved.get(slot) ?? cluster.slots[slot]?.[0] ?? '';
      const g = `${askNode ? 'ask' : 'get'}|${node}`;
      let group = groups.get(g);
      if (!group) groups.set(g, (group = { asking: askNode !== undefined, idx: [] }));
      group.idx.push(i);
    }
    const retry: number[] = [];
    const nextAsked = new Map<number, string>();
    let needRefresh = false;
    let needWait = false;
    const fail = (i: number, err: unknown): void => {
      lastError = err;
      retry.push(i);
    };
    await Promise.all(
      [...groups].flatMap(([g, group]) => {
        const node = nodes.get(g.slice(4));
        if (!node) {
          // A node the client does not know yet (a new master, or the slot map is empty): refresh first.
          needRefresh = true;
          needWait = true;
          for (const i of group.idx)
            fail(i, new Error(`no connection to the node serving slot ${slotOf[i]}`));
          return [];
        }
        const parts: number[][] = [];
        for (let s = 0; s < group.idx.length; s += PIPELINE_KEYS)
          parts.push(group.idx.slice(s, s + PIPELINE_KEYS));
        return parts.map(async (idx) => {
          const p = node.pipeline();
          for (const i of idx) {
            if (group.asking) p.asking();
            p[reader](keys[i] ?? '');
          }
          let replies: [Error | null, unknown][];
          try {
            replies = (await p.exec()) ?? [];
          } catch (err) {
            needRefresh = true;
            needWait = true;
            for (const i of idx) fail(i, err);
            return;
          }
          const step = group.asking ? 2 : 1;
          idx.forEach((i, n) => {
            const [err, value] = replies[n * step + step - 1] ?? [new Error('no reply'), null];
            if (!err) {
              out[i] = value as T | null;
              return;
            }
            const code = replyCode(err);
            const target = err.message.split(' ')[2];
            if (code === 'MOVED' && target) {
              moved.set(slotOf[i] as number, target);
              needRefresh = true;
            } else if (code === 'ASK' && target) {
              nextAsked.set(i, target);
            } else if (isRetryableRedisError(err)) {
              needWait = true;
              if (isConnectionError(err)) needRefresh = true;
            } else {
              throw err;
            }
            fail(i, err);
          });
        });
      }),
    );
    if (retry.length === 0) return out;
    if (attempt >= READ_RETRY.attempts) throw new ClusterReadError(attempt, lastError);
    pending = retry;
    asked = nextAsked;
    if (needRefresh) await refreshSlots(cluster);
    if (needWait) await delay(Math.min(READ_RETRY.baseMs * 2 ** (attempt - 1), READ_RETRY.maxMs));
    // The refreshed map is the authority again for slots it now places where MOVED said.
    for (const [slot, addr] of moved) if (cluster.slots[slot]?.[0] === addr) moved.delete(slot);
  }
}

/**
 * Runs a read and retries it on a cluster while the error is a redirect, a passing cluster state or a
 * lost connection (refreshing the slot map in between), like bulk writes are retried. Bounded by
 * {@link READ_RETRY}.
 */
export async function retryClusterRead<T>(cluster: Cluster, read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (!isRetryableRedisError(err)) throw err;
      if (attempt >= READ_RETRY.attempts) throw new ClusterReadError(attempt, err);
      const code = replyCode(err);
      if (code !== 'ASK') await refreshSlots(cluster);
      await delay(Math.min(READ_RETRY.baseMs * 2 ** (attempt - 1), READ_RETRY.maxMs));
    }
  }
}
