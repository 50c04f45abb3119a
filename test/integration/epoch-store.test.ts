/**
 * EpochStore owns every epoch transition: the typed scripts' error codes surface as typed errors, and
 * marking an epoch clean never loses a refresh that lands while a builder finishes (separate processes:
 * separate connections here).
 */
import { createConnection, createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeySchema } from '../../src/redis/keys.js';
import { ScriptError } from '../../src/redis/scripts.js';
import { EpochLostError, EpochStore, FencedError } from '../../src/wiring/epoch-store.js';
import {
  cleanupPrefix,
  openBus,
  redisTargets,
  testPrefix,
  testKeys,
  type TestBus,
} from '../support/redis.js';

for (const target of redisTargets()) {
  describe(`EpochStore (${target.name})`, () => {
    let worker: TestBus;
    let builder: TestBus;
    let prefix: string;
    let keys: KeySchema;

    beforeEach(async () => {
      worker = await openBus(target);
      builder = await openBus(target);
      prefix = testPrefix();
      keys = testKeys(prefix);
    });
    afterEach(async () => {
      await cleanupPrefix(worker, prefix);
      await worker.close();
      await builder.close();
    });

    /** What a worker's refresh does: a new last_refresh_ts in the meta, then the dirty flag. */
    async function refresh(store: EpochStore, id: string, ts: string): Promise<void> {
      await store.writeMeta(id, { symbol: 'SPX', last_refresh_ts: Number(ts) });
      await store.markDirty(id);
    }

    it('live substrate writes keep the snapshot TTL, and the stream bookkeeping lands in the meta', async () => {
      const store = new EpochStore(worker, keys);
      const id = 'SPX:1764600000:abcdef';
      await worker.cmd.set(keys.epochContract(id, 'O:SPX261207C05000000'), '{"old":1}', 'EX', 600);
      await store.writeLiveSubstrates(id, [['O:SPX261207C05000000', '{"new":2}']]);
      expect(await worker.cmd.get(keys.epochContract(id, 'O:SPX261207C05000000'))).toBe('{"new":2}');
      const ttl = await worker.cmd.ttl(keys.epochContract(id, 'O:SPX261207C05000000'));
      expect(ttl).toBeGreaterThan(590);
      expect(ttl).toBeLessThanOrEqual(600);
      const bytes = await store.substrateBytes(id, ['O:SPX261207C05000000', 'O:SPX261207P05000000']);
      expect(bytes.map((b) => b?.toString() ?? null)).toEqual(['{"new":2}', null]);
      await store.writeMeta(id, { symbol: 'SPX', status: 'active' });
      await store.noteStream(id, 1764600001.25, 3);
      await store.noteStream(id, 1764600002.5, 0);
      await store.noteStream(id, 1764600003.75, 4);
      const meta = await store.meta(id);
      expect(meta.last_stream_ts).toBe('1764600003.75');
      expect(meta.stream_updates).toBe('7');
    });

    it('a live write never recreates a substrate that expired (it would have no TTL and outlive its epoch)', async () => {
      const store = new EpochStore(worker, keys);
      const id = 'SPX:1764600000:gone00';
      const kept = keys.epochContract(id, 'O:SPX261207C05000000');
      const gone = keys.epochContract(id, 'O:SPX261207P05000000');
      await worker.cmd.set(kept, '{"old":1}', 'EX', 600);
      await store.writeLiveSubstrates(id, [
        ['O:SPX261207P05000000', '{"new":1}'],
        ['O:SPX261207C05000000', '{"new":2}'],
      ]);
      expect(await worker.cmd.exists(gone)).toBe(0);
      expect(await worker.cmd.get(kept)).toBe('{"new":2}');
      expect(await worker.cmd.ttl(kept)).toBeGreaterThan(590);
    });

    it('a live build of 600 substrates (strings and Buffers) lands byte for byte, each key keeping its TTL', async () => {
      const store = new EpochStore(worker, keys);
      const id = 'SPX:1764600000:fedcba';
      const ids = Array.from({ length: 600 }, (_, i) => `O:SPX261207C0${String(5000000 + i * 5000)}`);
      for (const [i, c] of ids.entries())
        await worker.cmd.set(keys.epochContract(id, c), '{"old":1}', 'EX', 600 + (i % 7));
      const json = (i: number): string => JSON.stringify({ id: ids[i], bid: i / 7, note: 'é€' });
      await store.writeLiveSubstrates(
        id,
        ids.map((c, i) => [c, i % 2 === 0 ? json(i) : Buffer.from(json(i))]),
      );
      const back = await store.substrateBytes(id, ids);
      expect(back.map((b) => b?.toString('utf8'))).toEqual(ids.map((_, i) => json(i)));
      for (const i of [0, 1, 5, 599]) {
        const ttl = await worker.cmd.ttl(keys.epochContract(id, ids[i] as string));
        expect(ttl).toBeGreaterThan(590 + (i % 7));
        expect(ttl).toBeLessThanOrEqual(600 + (i % 7));
      }
      // A key the snapshot did not write is not created (it would have no TTL).
      await store.writeLiveSubstrates(id, [['O:SPX261207P05000000', '{"new":3}']]);
      expect(await worker.cmd.ttl(keys.epochContract(id, 'O:SPX261207P05000000'))).toBe(-2);
      await store.writeLiveSubstrates(id, []);
    });

    it('the stream bookkeeping never recreates a meta that expired, and keeps the TTL of one that is retiring', async () => {
      const store = new EpochStore(worker, keys);
      // Gone (superseded a day ago, or lost in an outage): a live build that lands late writes nothing.
      const gone = 'SPX:1764600000:gone01';
      await store.noteStream(gone, 1764600001.25, 3);
      await store.noteStream(gone, 1764600002.5, 0);
      expect(await worker.cmd.exists(keys.epochMeta(gone))).toBe(0);
      // Superseded while the build ran: the fields land, the one-day TTL stays.
      const retiring = 'SPX:1764600000:retir1';
      await store.writeMeta(retiring, { symbol: 'SPX', status: 'active' });
      await store.retire(retiring);
      await store.noteStream(retiring, 1764600003.75, 4);
      const meta = await store.meta(retiring);
      expect(meta).toMatchObject({
        status: 'superseded',
        last_stream_ts: '1764600003.75',
        stream_updates: '4',
      });
      const ttl = await worker.cmd.ttl(keys.epochMeta(retiring));
      expect(ttl).toBeGreaterThan(86_390);
      expect(ttl).toBeLessThanOrEqual(86_400);
    });

    it("a live write built from quotes older than a refresh's snapshot never replaces its substrates", async () => {
      const store = new EpochStore(worker, keys);
      const id = 'SPX:1764600000:newer0';
      const [c1, c2, c3] = ['O:SPX261207C05000000', 'O:SPX261207P05000000', 'O:SPX261207C05100000'];
      const sub = (c: string, bid: number, ts: number): string =>
        JSON.stringify({ id: c, bid, ask: bid + 0.2, mid: bid + 0.1, iv: 0.2, volume: 10, ts });
      const get = async (c: string): Promise<{ bid: number; ts: number }> =>
        JSON.parse((await worker.cmd.get(keys.epochContract(id, c))) as string) as {
          bid: number;
          ts: number;
        };
      // The first snapshot (as of 1764600000), then a live build from its quotes (1764600003.5).
      for (const c of [c1, c2, c3])
        await worker.cmd.set(keys.epochContract(id, c), sub(c, 1, 1764600000), 'EX', 600);
      await store.writeLiveSubstrates(id, [[c1, sub(c1, 2, 1764600003.5)]]);
      expect(await get(c1)).toMatchObject({ bid: 2, ts: 1764600003.5 });
      // A REST refresh of the same epoch (as of 1764600005) rewrites every substrate.
      for (const c of [c1, c2, c3])
        await worker.cmd.set(keys.epochContract(id, c), sub(c, 5, 1764600005), 'EX', 900);
      // A live flush built before it lands after it: quotes of 1764600004 and a trade-only contract
      // stamped with the first snapshot's as-of. The refresh's newer values stay; a newer quote applies.
      await store.writeLiveSubstrates(id, [
        [c1, sub(c1, 3, 1764600004)],
        [c2, Buffer.from(sub(c2, 1, 1764600000))],
        [c3, sub(c3, 6, 1764600005.25)],
      ]);
      expect(await get(c1)).toMatchObject({ bid: 5, ts: 1764600005 });
      expect(await get(c2)).toMatchObject({ bid: 5, ts: 1764600005 });
      expect(await get(c3)).toMatchObject({ bid: 6, ts: 1764600005.25 });
      // The refresh's TTL stays on every key.
      for (const c of [c1, c2, c3])
        expect(await worker.cmd.ttl(keys.epochContract(id, c))).toBeGreaterThan(890);
    });

    it('promotion errors arrive typed by their reply code, with the reply as cause', async () => {
      const store = new EpochStore(worker, keys);
      await worker.cmd.set(keys.workerLease('SPX'), 'w1|7');
      const fenced = await store.flip('SPX', 'SPX:e1', 'w2|8').catch((e: unknown) => e);
      expect(fenced).toBeInstanceOf(FencedError);
      expect((fenced as Error).cause).toBeInstanceOf(ScriptError);
      expect(((fenced as Error).cause as ScriptError).code).toBe('FENCED');
      expect(await store.activeId('SPX')).toBeNull();
      if (!target.cluster) {
        // Single server: the meta and index are checked in the script.
        const lost = await store.flip('SPX', 'SPX:e1', 'w1|7').catch((e: unknown) => e);
        expect(lost).toBeInstanceOf(EpochLostError);
        expect(((lost as Error).cause as ScriptError).code).toBe('MISSING');
      }
      for (const id of ['SPX:e1', 'SPX:e2']) {
        await store.writeMeta(id, { symbol: 'SPX' });
        await worker.cmd.set(keys.epochContracts(id), '[]');
      }
      expect(await store.flip('SPX', 'SPX:e1', 'w1|7')).toBeNull();
      expect(await store.flip('SPX', 'SPX:e2', 'w1|7')).toBe('SPX:e1');
      expect(await store.activeId('SPX')).toBe('SPX:e2');
    });

    it('marks clean only the version the build read', async () => {
      const store = new EpochStore(worker, keys);
      const b = new EpochStore(builder, keys);
      await refresh(store, 'SPX:e1', '100.5');
      const read = await b.refreshTs('SPX:e1');
      expect(read).toBe('100.5');
      await refresh(store, 'SPX:e1', '101.5');
      expect(await b.markClean('SPX:e1', read)).toBe(false);
      expect(await b.dirtyIds()).toEqual(['SPX:e1']);
      expect(await worker.cmd.sismember(keys.epochClean, 'SPX:e1')).toBe(0);
      expect(await b.markClean('SPX:e1', '101.5')).toBe(true);
      expect(await b.dirtyIds()).toEqual([]);
      expect(await worker.cmd.sismember(keys.epochClean, 'SPX:e1')).toBe(1);
      // An absent timestamp is "" on both sides.
      await store.markDirty('SPX:e2');
      expect(await b.markClean('SPX:e2', await b.refreshTs('SPX:e2'))).toBe(true);
    });

    it('a build that finishes after its epoch was superseded leaves it in neither set', async () => {
      const store = new EpochStore(worker, keys);
      const b = new EpochStore(builder, keys);
      await refresh(store, 'SPX:old', '100.5');
      const read = await b.refreshTs('SPX:old');
      // The worker promotes another epoch while the build runs, and retires this one.
      await store.retire('SPX:old');
      expect(await b.markClean('SPX:old', read)).toBe(false);
      expect(await worker.cmd.sismember(keys.epochClean, 'SPX:old')).toBe(0);
      expect(await worker.cmd.sismember(keys.epochDirty, 'SPX:old')).toBe(0);
      expect((await store.meta('SPX:old')).status).toBe('superseded');
    });

    it.each([
      // [meta before, threshold, recordFailure's result, the meta's status and count after]
      ['absent', null, 3, { dormantCount: 0, dormant: false }, null],
      ['active, below the threshold', 'active:0', 3, { dormantCount: 1, dormant: false }, 'active:1'],
      ['active, reaching it', 'active:2', 3, { dormantCount: 3, dormant: true }, 'dormant:3'],
      ['dormant already', 'dormant:5', 3, { dormantCount: 6, dormant: true }, 'dormant:6'],
      // Retired after the caller read epoch:active: neither counted nor made dormant.
      ['superseded meanwhile', 'superseded:0', 1, { dormantCount: 0, dormant: false }, 'superseded:0'],
    ] as const)('recordFailure on an epoch %s', async (_name, before, threshold, want, after) => {
      const store = new EpochStore(worker, keys);
      const id = 'SPX:1764600000:fail01';
      await worker.cmd.hset(keys.epochActive, 'SPX', id);
      if (before !== null) {
        const [status, count] = before.split(':');
        await worker.cmd.hset(keys.epochMeta(id), {
          symbol: 'SPX',
          geometry_hash: 'g1',
          status,
          dormant_count: count,
        });
      }
      expect(await store.recordFailure('SPX', threshold)).toEqual({ epochId: id, ...want });
      const meta = await worker.cmd.hgetall(keys.epochMeta(id));
      expect(after === null ? meta : `${meta.status}:${meta.dormant_count}`).toEqual(after ?? {});
    });

    it.each([
      // [active epoch, lease held, lease the caller presents, result]
      ['SPX:e1', 'w1|1', 'w1|1', true],
      ['SPX:e2', 'w1|1', 'w1|1', false],
      [null, 'w1|1', 'w1|1', false],
      ['SPX:e1', 'w2|2', 'w1|1', 'fenced'],
      ['SPX:e1', null, 'w1|1', 'fenced'],
      ['SPX:e1', null, '', true],
    ] as const)(
      'confirmActive of SPX:e1 (active %s, lease %s, presented %s): %s',
      async (active, held, presented, want) => {
        const store = new EpochStore(worker, keys);
        if (active !== null) await worker.cmd.hset(keys.epochActive, 'SPX', active);
        if (held !== null) await worker.cmd.set(keys.workerLease('SPX'), held, 'PX', 60_000);
        const got = store.confirmActive('SPX', 'SPX:e1', presented);
        if (want === 'fenced') await expect(got).rejects.toBeInstanceOf(FencedError);
        else expect(await got).toBe(want);
      },
    );

    it.runIf(!target.cluster)(
      "a refresh landing between the build's compare and its mark-clean stays dirty",
      async () => {
        // The builder talks through a proxy that holds each of its commands 60 ms: its compare and its
        // write reach Redis at least 60 ms apart, and the worker's refresh is timed to land in between.
        // A read-compare-then-write mark-clean loses that refresh every round; the script cannot.
        const url = new URL(target.url);
        const proxy = await delayingProxy(url.hostname, Number(url.port || 6379), 60);
        const slow = await openBus({ ...target, url: `redis://127.0.0.1:${proxy.port}` });
        try {
          const store = new EpochStore(worker, keys);
          const b = new EpochStore(slow, keys);
          const id = 'SPX:race';
          let lost = 0;
          for (let i = 1; i <= 4; i++) {
            await refresh(store, id, String(i));
            const read = await b.refreshTs(id);
            await Promise.all([
              b.markClean(id, read),
              new Promise((r) => setTimeout(r, 90)).then(() => refresh(store, id, String(i + 0.5))),
            ]);
            if (!(await b.isDirty(id))) lost++;
            await b.markClean(id, await b.refreshTs(id));
          }
          expect(lost).toBe(0);
        } finally {
          await slow.close();
          proxy.close();
        }
      },
    );
  });
}

/** A TCP proxy that forwards client → server bytes `delayMs` late (in order) and replies at once. */
async function delayingProxy(
  host: string,
  port: number,
  delayMs: number,
): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host, port });
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => setTimeout(() => upstream.write(chunk), delayMs));
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as import('node:net').AddressInfo;
  return {
    port: addr.port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
