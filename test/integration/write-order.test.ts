/**
 * The order in which a cycle's commands reach Redis (read with MONITOR on a single server), now that the
 * small per-cycle commands are sent together and a promotion's meta goes out beside the bulk write: every
 * contract write, the index and the meta before the promote script; the timeline, the dirty flag and its
 * nudge after it; the snapshot announcement after those; a refresh's meta after its last contract write.
 * And a promotion whose bulk write fails leaves no meta without an expiry behind.
 */
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import type { RedisBus } from '../../src/redis/bus.js';
import { EpochLostError } from '../../src/wiring/epoch-store.js';
import { SINGLE_URL } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

const target = { name: 'single' as const, url: SINGLE_URL, cluster: false };

/**
 * Every command MONITOR reports while `fn` runs whose first key starts with `prefix`. Read on a socket of
 * its own: ioredis's monitor mode begins one turn after MONITOR's `+OK`, so a monitor line that arrives in
 * the same read as the `+OK` (the harness's builds and events still writing) was taken for a command reply
 * ("Command queue state error", an uncaught exception).
 */
async function monitored(prefix: string, fn: () => Promise<void>): Promise<string[][]> {
  const url = new URL(SINGLE_URL);
  const socket = connect(Number(url.port || 6379), url.hostname);
  socket.setEncoding('utf8');
  const seen: string[][] = [];
  let pending = '';
  const started = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\r\n'); nl >= 0; nl = pending.indexOf('\r\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 2);
        if (line === '+OK') resolve();
        else if (line.startsWith('-')) reject(new Error(line));
        else {
          // `+1796288549.381765 [0 127.0.0.1:45966] "hmget" "key" …`: the quoted arguments, unescaped.
          const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
            (m[1] ?? '').replace(/\\(.)/g, '$1'),
          );
          const [name, ...rest] = args;
          const upper = String(name).toUpperCase();
          // EVALSHA sha numkeys key…: its first key is the fourth argument.
          const key = upper === 'EVALSHA' || upper === 'EVAL' ? rest[2] : rest[0];
          if (key?.startsWith(prefix)) seen.push([upper, ...rest]);
        }
      }
    });
  });
  if (url.password)
    socket.write(
      `AUTH ${decodeURIComponent(url.username || 'default')} ${decodeURIComponent(url.password)}\r\n`,
    );
  socket.write('MONITOR\r\n');
  try {
    await started;
    await fn();
    // MONITOR reports on its own connection: let it catch up with the last commands.
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    socket.destroy();
  }
  return seen;
}

const last = (xs: string[][], p: (c: string[]) => boolean): number => xs.findLastIndex(p);
const first = (xs: string[][], p: (c: string[]) => boolean): number => xs.findIndex(p);

describe('the order of a cycle’s commands (single server)', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('promotion: writes, index and meta before the promote; timeline, dirty and nudge after; the announcement last', async () => {
    h = await startHarness(target);
    const { keys, prefix } = h;
    let epochId = '';
    const seen = await monitored(prefix, async () => {
      const r = await runCycle(h?.deps as Harness['deps'], 'I:SPX', '');
      expect(r).toMatchObject({ ok: true, promoted: true });
      epochId = r.epochId as string;
    });
    const flip = first(seen, (c) => (c[0] === 'EVALSHA' || c[0] === 'EVAL') && c[3] === keys.epochActive);
    expect(flip).toBeGreaterThan(0);
    const substrate = keys.epochContract(epochId, '');
    expect(first(seen, (c) => c[0] === 'SET' && c[1]?.startsWith(substrate) === true)).toBeGreaterThanOrEqual(
      0,
    );
    expect(last(seen, (c) => c[0] === 'SET' && c[1]?.startsWith(substrate) === true)).toBeLessThan(flip);
    expect(last(seen, (c) => c[0] === 'SET' && c[1] === keys.epochContracts(epochId))).toBeLessThan(flip);
    expect(last(seen, (c) => c[0] === 'HSET' && c[1] === keys.epochMeta(epochId))).toBeLessThan(flip);
    // MONITOR lists the script's own commands after it; the cycle's next ones follow.
    const after = seen
      .slice(flip + 1)
      .filter((c) => ['RPUSH', 'LTRIM', 'SADD', 'SREM', 'PUBLISH'].includes(c[0] as string))
      .map((c) => c.slice(0, 2).join(' '));
    expect(after.slice(0, 6)).toEqual([
      `RPUSH ${keys.epochTimeline('SPX')}`,
      `LTRIM ${keys.epochTimeline('SPX')}`,
      `SADD ${keys.epochDirty}`,
      `SREM ${keys.epochClean}`,
      `PUBLISH ${keys.dirtyChannel}`,
      `PUBLISH ${keys.snapshotChannel}`,
    ]);
  });

  it('refresh: the meta after the last contract write, the dirty flag after the active check', async () => {
    h = await startHarness(target);
    const { keys, prefix } = h;
    const a = await runCycle(h.deps, 'I:SPX', '');
    expect(a).toMatchObject({ ok: true, promoted: true });
    const epochId = a.epochId as string;
    const seen = await monitored(prefix, async () => {
      const r = await runCycle(h?.deps as Harness['deps'], 'I:SPX', '');
      expect(r).toMatchObject({ ok: true, promoted: false, epochId });
    });
    const substrate = keys.epochContract(epochId, '');
    const lastWrite = last(seen, (c) => c[0] === 'SET' && c[1]?.startsWith(substrate) === true);
    const index = last(seen, (c) => c[0] === 'SET' && c[1] === keys.epochContracts(epochId));
    const meta = first(seen, (c) => c[0] === 'HSET' && c[1] === keys.epochMeta(epochId));
    expect(lastWrite).toBeGreaterThanOrEqual(0);
    expect(meta).toBeGreaterThan(lastWrite);
    expect(meta).toBeGreaterThan(index);
    const check = first(seen.slice(meta + 1), (c) => c[0] === 'HGET' && c[1] === keys.epochActive) + meta + 1;
    const dirty = first(seen, (c) => c[0] === 'SADD' && c[1] === keys.epochDirty);
    expect(check).toBeGreaterThan(meta);
    expect(dirty).toBeGreaterThan(check);
    expect(first(seen, (c) => c[0] === 'PUBLISH' && c[1] === keys.snapshotChannel)).toBeGreaterThan(dirty);
  });

  it('a promotion whose bulk write fails is not promoted and leaves no meta without an expiry', async () => {
    h = await startHarness(target);
    const { bus, keys } = h;
    // The same bus, but its bulk writes fail (a lost connection, say); the epoch store writes for real.
    const failing = Object.create(bus) as RedisBus;
    failing.writeEncoded = () => Promise.reject(new Error('bulk connection lost'));
    failing.writeBulk = () => Promise.reject(new Error('bulk connection lost'));
    const r = await runCycle({ ...h.deps, bus: failing }, 'I:SPX', '');
    expect(r.ok).toBe(false);
    expect(await bus.cmd.hget(keys.epochActive, 'SPX')).toBeNull();
    const metas = await (bus.conn as Redis).keys(`${keys.epochMeta('')}*`);
    for (const key of metas) {
      const ttl = await bus.cmd.ttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(await bus.cmd.hget(key, 'status')).toBe('superseded');
    }
  });

  it("a failed promotion's clean-up does not hold the failure back (Redis gone: its commands wait out the retries)", async () => {
    h = await startHarness(target);
    const failing = Object.create(h.bus) as RedisBus;
    failing.writeEncoded = () => Promise.reject(new Error('bulk connection lost'));
    failing.writeBulk = () => Promise.reject(new Error('bulk connection lost'));
    // The retire of the meta written beside the bulk write answers only after 3 s (a client retrying).
    const slow = Object.create(h.deps.epochs) as typeof h.deps.epochs;
    let retired = false;
    slow.retire = () =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          retired = true;
          resolve();
        }, 3_000),
      );
    const t0 = performance.now();
    const r = await runCycle({ ...h.deps, bus: failing, epochs: slow }, 'I:SPX', '');
    const ms = performance.now() - t0;
    expect(r.ok).toBe(false);
    expect(r.error?.message).toBe('bulk connection lost');
    expect(retired).toBe(false);
    expect(ms).toBeLessThan(2_500);
  });

  /** The epoch store, its `retire` answering only after 3 s (a client retrying) and recording that it was called. */
  function slowRetire(epochs: Harness['deps']['epochs']): { store: typeof epochs; calls: string[] } {
    const store = Object.create(epochs) as typeof epochs;
    const calls: string[] = [];
    store.retire = (id: string) =>
      new Promise<void>((resolve) => {
        calls.push(id);
        setTimeout(resolve, 3_000);
      });
    return { store, calls };
  }

  it('a promotion whose flip fails (fenced) fails at once; the clean-up of its meta is sent, not waited for', async () => {
    h = await startHarness(target);
    const { store, calls } = slowRetire(h.deps.epochs);
    store.flip = () => Promise.reject(new EpochLostError('fenced by another worker'));
    const t0 = performance.now();
    const r = await runCycle({ ...h.deps, epochs: store }, 'I:SPX', '');
    const ms = performance.now() - t0;
    expect(r.ok).toBe(false);
    expect(r.error?.message).toBe('fenced by another worker');
    // The epoch that was not promoted: nothing is active, so the failure names none.
    expect(calls).toHaveLength(1);
    expect(r.epochId).toBeNull();
    expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toBeNull();
    expect(await h.bus.cmd.exists(h.keys.epochMeta(calls[0] as string))).toBe(1);
    expect(ms).toBeLessThan(2_500);
  });

  it('a refresh whose epoch stopped being active fails with EpochLostError at once, even when the clean-up is refused', async () => {
    h = await startHarness(target);
    const a = await runCycle(h.deps, 'I:SPX', '');
    expect(a).toMatchObject({ ok: true, promoted: true });
    const { store, calls } = slowRetire(h.deps.epochs);
    // Once the refresh's meta is written, another worker's epoch is active.
    let lost = false;
    const writeMeta = store.writeMeta.bind(store);
    store.writeMeta = async (...args: Parameters<typeof writeMeta>) => {
      await writeMeta(...args);
      lost = true;
    };
    const activeId = store.activeId.bind(store);
    store.activeId = async (u: string) => (lost ? 'another-workers-epoch' : activeId(u));
    const confirmActive = store.confirmActive.bind(store);
    store.confirmActive = async (u: string, id: string, lease: string) =>
      lost ? false : confirmActive(u, id, lease);
    const t0 = performance.now();
    const r = await runCycle({ ...h.deps, epochs: store }, 'I:SPX', '');
    const ms = performance.now() - t0;
    expect(r.ok).toBe(false);
    expect(r.error).toBeInstanceOf(EpochLostError);
    expect(calls).toEqual([a.epochId]);
    expect(ms).toBeLessThan(2_500);

    // A retire that is refused does not replace the error.
    lost = false;
    store.retire = () => Promise.reject(new Error('OOM command not allowed'));
    const r2 = await runCycle({ ...h.deps, epochs: store }, 'I:SPX', '');
    expect(r2.ok).toBe(false);
    expect(r2.error).toBeInstanceOf(EpochLostError);
  });
});
