/**
 * `massive:chain:latest` in MarketSwarm's form (`{version, ts, contracts: {ticker: vendor JSON}}`, our
 * summaries under `symbols`), `massive:chain:delta:latest` and `massive:chain:geometry_updated`, read with
 * the consumers' rules (shared/compat/marketswarm.md), on a single server and on the cluster; and two
 * writers holding different symbols racing to assemble one coherent document.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { parseOptionTicker } from '../../src/provider/massive/ticker.js';
import type { RedisBus } from '../../src/redis/bus.js';
import { ASSEMBLY_WAIT_MS, ChainLatestStore, type PartWrite } from '../../src/wiring/chain-latest.js';
import { contractsFragment, unpackTickers } from '../../src/wiring/chain-latest-doc.js';
import { openBus, redisTargets } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndex } from '../support/contract-index.js';

interface LatestDoc {
  version: number;
  ts: number;
  contracts: Record<string, Record<string, unknown>>;
  symbols: Record<string, { epoch_id: string; contract_count: number; symbol: string }>;
}
interface Delta {
  version: number;
  ts: number;
  entered: string[];
  exited: string[];
}

async function latest(h: Harness): Promise<{ text: string; doc: LatestDoc }> {
  const text = (await h.bus.cmd.get(h.keys.latest)) as string;
  return { text, doc: JSON.parse(text) as LatestDoc };
}

/** A part of one contract `O:{u}W0001` whose summary and vendor JSON are `{"u":u}`. */
function onePart(u: string, o: { delta: boolean; cycle?: string }): PartWrite {
  return {
    underlying: u,
    summary: JSON.stringify({ u }),
    contracts: contractsFragment([{ ticker: `O:${u}W0001`, bytes: Buffer.from(`{"u":"${u}"}`) }]),
    tickers: [`O:${u}W0001`],
    ts: Date.now() / 1000,
    ...o,
  };
}

const underlyingOfTicker = (t: string): string => (t.startsWith('O:NDX') ? 'NDX' : 'SPX');

describe.each(redisTargets())('massive:chain:latest on $name', (target) => {
  let h: Harness | undefined;
  let sub: Redis | undefined;
  const extra: RedisBus[] = [];
  /** A harness and two stores on connections of their own: two writers (workers) of one document. */
  async function twoWriters(): Promise<{ hh: Harness; a: ChainLatestStore; b: ChainLatestStore }> {
    h = await startHarness(target, { sim: { contractsPerExpiration: 5 } });
    const busB = await openBus(target);
    extra.push(busB);
    return { hh: h, a: new ChainLatestStore(h.bus, h.keys), b: new ChainLatestStore(busB, h.keys) };
  }
  afterEach(async () => {
    sub?.disconnect();
    sub = undefined;
    for (const b of extra.splice(0)) await b.close();
    await h?.close();
    h = undefined;
  });

  it('the consumers read {version, ts, contracts} byte for byte; version, delta and channel follow the ticker set', async () => {
    h = await startHarness(target, { sim: { contractsPerExpiration: 30 } });
    const hh = h;
    const r = hh.bus.cmd;
    const versions: number[] = [];
    sub = hh.bus.duplicate() as Redis;
    sub.on('message', (_c: string, m: string) =>
      versions.push((JSON.parse(m) as { version: number }).version),
    );
    await sub.subscribe(hh.keys.geometryUpdatedChannel);

    const spx = await runCycle(hh.deps, 'I:SPX', '');
    let { doc } = await latest(hh);
    expect(doc.version).toBe(1);
    const spxTickers = Object.keys(doc.contracts).sort();
    expect(spxTickers.length).toBe(spx.contracts);
    let delta = JSON.parse((await r.get(hh.keys.latestDelta)) as string) as Delta;
    expect(delta).toMatchObject({ version: 1, entered: spxTickers, exited: [] });

    const ndx = await runCycle(hh.deps, 'I:NDX', '');
    const { text, doc: both } = await latest(hh);
    doc = both;
    // MarketSwarm's reader: version int, ts int seconds (now), contracts keyed by ticker, no TTL.
    expect(doc.version).toBe(2);
    expect(Number.isInteger(doc.ts)).toBe(true);
    expect(Math.abs(doc.ts - Date.now() / 1000)).toBeLessThan(60);
    expect(await r.ttl(hh.keys.latest)).toBe(-1);
    const tickers = Object.keys(doc.contracts);
    expect(tickers.length).toBe(spx.contracts + ndx.contracts);
    expect(tickers.filter((t) => underlyingOfTicker(t) === 'SPX').sort()).toEqual(spxTickers);
    // Byte for byte: each member is the raw snapshot key's bytes as fetched.
    for (const t of tickers.filter((_, i) => i % 7 === 0)) {
      const p = parseOptionTicker(t);
      expect(p).not.toBeNull();
      const raw = await r.get(hh.keys.snapshot({ underlying: underlyingOfTicker(t), ...p! }));
      expect(raw).not.toBeNull();
      expect(text.includes(`${JSON.stringify(t)}:${raw as string}`)).toBe(true);
      expect(doc.contracts[t]).toEqual(JSON.parse(raw as string));
    }
    expect(Object.keys(doc.symbols).sort()).toEqual(['NDX', 'SPX']);
    expect(doc.symbols.SPX).toMatchObject({
      symbol: 'I:SPX',
      epoch_id: spx.epochId,
      contract_count: spx.contracts,
    });
    expect(doc.symbols.NDX).toMatchObject({ epoch_id: ndx.epochId });
    delta = JSON.parse((await r.get(hh.keys.latestDelta)) as string) as Delta;
    expect(delta.version).toBe(2);
    expect(delta.entered).toEqual(tickers.filter((t) => underlyingOfTicker(t) === 'NDX').sort());

    // A refresh (same tickers): new values, same version, no announcement.
    const again = await runCycle(hh.deps, 'I:SPX', '');
    expect(again.promoted).toBe(false);
    expect((await latest(hh)).doc.version).toBe(2);

    // Fewer strikes: a new geometry, version 3, the delta lists exactly what left.
    (hh.market as SimMarket).adjust({ contractsPerExpiration: 20 });
    const shrunk = await runCycle(hh.deps, 'I:SPX', '');
    expect(shrunk.promoted).toBe(true);
    const after = (await latest(hh)).doc;
    expect(after.version).toBe(3);
    const spxAfter = Object.keys(after.contracts).filter((t) => underlyingOfTicker(t) === 'SPX');
    delta = JSON.parse((await r.get(hh.keys.latestDelta)) as string) as Delta;
    expect(delta.version).toBe(3);
    expect(delta.exited).toEqual(spxTickers.filter((t) => !spxAfter.includes(t)).sort());
    expect(delta.entered).toEqual(spxAfter.filter((t) => !spxTickers.includes(t)).sort());
    expect(delta.exited.length).toBeGreaterThan(0);
    await waitUntil(() => versions.length >= 3, 5_000, 'three geometry announcements');
    expect(versions).toEqual([1, 2, 3]);
  }, 60_000);

  it('a part keeps its ticker set packed (tickers_z); a part an earlier version wrote as JSON still gives the exact delta', async () => {
    h = await startHarness(target, {
      sim: { contractsPerExpiration: 30 },
      env: { CHAIN_COMPAT: 'marketswarm', CHAIN_LATEST_MODE: 'summary' },
    });
    const hh = h;
    const r = hh.bus.cmd;
    const part = hh.keys.latestPart('SPX');
    const first = await runCycle(hh.deps, 'I:SPX', '');
    const tickers = await readIndex(r, hh.keys.epochContracts(first.epochId!));
    expect(tickers.length).toBe(first.contracts);
    expect(await hh.bus.conn.hexists(part, 'tickers')).toBe(0);
    const packed = await hh.bus.conn.hgetBuffer(part, 'tickers_z');
    expect(packed).not.toBeNull();
    expect(packed!.length).toBeLessThan(Buffer.byteLength(JSON.stringify(tickers)) / 4);
    expect(await unpackTickers(packed!)).toEqual([...tickers].sort());

    // As an earlier version left it: the list as JSON, without one ticker; the next write's delta is exact.
    const [gone, ...kept] = [...tickers].sort();
    await r.hdel(part, 'tickers_z');
    await r.hset(part, 'tickers', JSON.stringify(kept), 'tickers_hash', 'old');
    await runCycle(hh.deps, 'I:SPX', '');
    const delta = JSON.parse((await r.get(hh.keys.latestDelta)) as string) as Delta;
    expect(delta).toMatchObject({ entered: [gone], exited: [] });
    expect(await hh.bus.conn.hexists(part, 'tickers')).toBe(0);
    expect(await unpackTickers((await hh.bus.conn.hgetBuffer(part, 'tickers_z'))!)).toEqual(
      [...tickers].sort(),
    );
  }, 30_000);

  it('CHAIN_COMPAT=none: the same document with contracts empty (CHAIN_LATEST_MODE auto → summary); no delta (MarketSwarm reads it), the version and channel still follow the ticker set', async () => {
    h = await startHarness(target, { sim: { contractsPerExpiration: 10 }, env: { CHAIN_COMPAT: 'none' } });
    const hh = h;
    const sub = hh.bus.duplicate();
    const heard: number[] = [];
    sub.on('message', (_ch: string, msg: string) =>
      heard.push((JSON.parse(msg) as { version: number }).version),
    );
    await sub.subscribe(hh.keys.geometryUpdatedChannel);
    try {
      const res = await runCycle(hh.deps, 'I:SPX', '');
      const { doc } = await latest(hh);
      expect(doc).toMatchObject({ version: 1, contracts: {} });
      expect(doc.symbols.SPX?.contract_count).toBe(res.contracts);
      (hh.market as SimMarket).adjust({ contractsPerExpiration: 12 });
      await runCycle(hh.deps, 'I:SPX', '');
      expect((await latest(hh)).doc.version).toBe(2);
      expect(await hh.bus.cmd.exists(hh.keys.latestDelta)).toBe(0);
      await waitUntil(() => heard.length === 2, 5_000, 'geometry_updated twice');
      expect(heard).toEqual([1, 2]);
      // Nothing reads the list without deltas: the part keeps the set's hash only.
      const part = hh.keys.latestPart('SPX');
      expect(await hh.bus.conn.hkeys(part)).toEqual(['tickers_hash']);
      const epochId = (await latest(hh)).doc.symbols.SPX!.epoch_id;
      const tickers = await readIndex(hh.bus.conn, hh.keys.epochContracts(epochId));
      expect(await hh.bus.cmd.hget(part, 'tickers_hash')).toBe(
        createHash('sha1')
          .update(
            [...tickers]
              .sort()
              .map((t) => `${t}\n`)
              .join(''),
          )
          .digest('hex'),
      );
    } finally {
      sub.disconnect();
    }
  }, 30_000);

  it('a part written without deltas (hash only, an old list dropped) gets its list from the first writer with deltas; the next delta is exact', async () => {
    h = await startHarness(target, { sim: { contractsPerExpiration: 5 } });
    const store = new ChainLatestStore(h.bus, h.keys);
    const part = h.keys.latestPart('SPX');
    const set = (n: number): string[] =>
      Array.from({ length: n }, (_, i) => `O:SPXW261218C0${String(6000 + i)}000`);
    const write = (tickers: string[], delta: boolean): Promise<void> =>
      store.write({ ...onePart('SPX', { delta }), tickers });
    await h.bus.conn.hset(part, 'tickers_z', 'stale');
    await write(set(3), false);
    expect(await h.bus.conn.hkeys(part)).toEqual(['tickers_hash']);
    expect((await latest(h)).doc.version).toBe(1);
    // The same set with deltas: no change (the version stays), but the list is stored for the next one.
    await write(set(3), true);
    expect((await latest(h)).doc.version).toBe(1);
    expect(await unpackTickers((await h.bus.conn.hgetBuffer(part, 'tickers_z'))!)).toEqual(set(3));
    expect(await h.bus.cmd.exists(h.keys.latestDelta)).toBe(0);
    await write(set(4).slice(1), true);
    expect((await latest(h)).doc.version).toBe(2);
    const delta = JSON.parse((await h.bus.cmd.get(h.keys.latestDelta))!) as Delta;
    expect(delta).toMatchObject({ version: 2, entered: [set(4)[3]], exited: [set(3)[0]] });
    // Back without deltas: the set changes (the version moves) and the list goes.
    await write(set(2), false);
    expect((await latest(h)).doc.version).toBe(3);
    expect(await h.bus.conn.hkeys(part)).toEqual(['tickers_hash']);
  }, 30_000);

  it('two writers holding different symbols: a stale assembly is dropped and assembled again from the new document, one coherent document', async () => {
    const { hh, a, b } = await twoWriters();
    const part = (u: string, n: number, round: number) => ({
      underlying: u,
      summary: JSON.stringify({ round }),
      contracts: contractsFragment(
        Array.from({ length: n }, (_, i) => ({
          ticker: `O:${u}W${String(i).padStart(4, '0')}`,
          bytes: Buffer.from(`{"round":${round},"i":${i}}`),
        })),
      ),
      tickers: Array.from({ length: n }, (_, i) => `O:${u}W${String(i).padStart(4, '0')}`),
      ts: Date.now() / 1000,
      delta: true,
    });
    // The interleaving that loses an update without the fence: A reads, B writes and commits, A commits.
    await a.writePart(part('SPX', 3, 1));
    const staleRead = await a.prepare();
    await b.write(part('NDX', 2, 1));
    expect((await latest(hh)).doc.symbols).toEqual({ NDX: { round: 1 } });
    expect(await a.commit(staleRead)).toBe('stale');
    expect((await latest(hh)).doc.symbols).toEqual({ NDX: { round: 1 } });
    // A's next assembly reads the new document: NDX from it (GETRANGE), SPX from memory.
    await a.assemble();
    let doc = (await latest(hh)).doc;
    expect(doc.symbols).toEqual({ SPX: { round: 1 }, NDX: { round: 1 } });
    expect(doc.version).toBe(2);
    expect(Object.keys(doc.contracts)).toHaveLength(5);
    // The dropped assembly left no staging key behind.
    const nodes = hh.bus.isCluster
      ? (hh.bus.conn as import('ioredis').Cluster).nodes('master')
      : [hh.bus.conn as Redis];
    for (const n of nodes) expect(await n.keys(`${hh.keys.latestStaging('')}*`)).toEqual([]);

    // Many rounds racing from two connections; each round's tickers differ in count (version bumps).
    const rounds = 25;
    await Promise.all([
      (async () => {
        for (let i = 2; i <= rounds; i++) await a.write(part('SPX', 3 + (i % 4), i));
      })(),
      (async () => {
        for (let i = 2; i <= rounds; i++) await b.write(part('NDX', 2 + (i % 3), i));
      })(),
    ]);
    doc = (await latest(hh)).doc;
    expect(doc.symbols).toEqual({ SPX: { round: rounds }, NDX: { round: rounds } });
    const spx = Object.entries(doc.contracts).filter(([t]) => t.startsWith('O:SPX'));
    const ndx = Object.entries(doc.contracts).filter(([t]) => t.startsWith('O:NDX'));
    expect(spx).toHaveLength(3 + (rounds % 4));
    expect(ndx).toHaveLength(2 + (rounds % 3));
    for (const [, v] of [...spx, ...ndx]) expect(v).toMatchObject({ round: rounds });
    expect(doc.version).toBe(Number(await hh.bus.cmd.get(hh.keys.latestVersion)));
    const commits = {
      stale: a.commits.stale + b.commits.stale,
      ok: a.commits.current + a.commits.new_version + b.commits.current + b.commits.new_version,
    };
    expect(commits.ok).toBeGreaterThan(0);
  }, 60_000);

  it('a symbol whose epoch expired (no worker keeps it any more) leaves the document: its tickers exit, the version moves', async () => {
    const { hh, a, b } = await twoWriters();
    const part = (u: string, epochId: string, n: number): PartWrite => ({
      underlying: u,
      summary: JSON.stringify({ symbol: `I:${u}`, epoch_id: epochId }),
      contracts: contractsFragment(
        Array.from({ length: n }, (_, i) => ({
          ticker: `O:${u}W${String(i).padStart(4, '0')}`,
          bytes: Buffer.from(`{"i":${i}}`),
        })),
      ),
      tickers: Array.from({ length: n }, (_, i) => `O:${u}W${String(i).padStart(4, '0')}`),
      ts: Date.now() / 1000,
      delta: true,
    });
    // Both epochs alive (their contract indexes exist, as a worker keeps them).
    await hh.bus.cmd.set(hh.keys.epochContracts('SPX:e1'), 'x', 'EX', 300);
    await hh.bus.cmd.set(hh.keys.epochContracts('NDX:e1'), 'x', 'EX', 300);
    await a.write(part('SPX', 'SPX:e1', 3));
    await b.write(part('NDX', 'NDX:e1', 2));
    let doc = (await latest(hh)).doc;
    expect(Object.keys(doc.symbols).sort()).toEqual(['NDX', 'SPX']);
    const before = doc.version;
    // SPX's epoch index expired while a worker still holds SPX (its lease): SPX stays.
    await hh.bus.cmd.del(hh.keys.epochContracts('SPX:e1'));
    await hh.bus.cmd.set(hh.keys.workerLease('SPX'), 'w1|1', 'PX', 15_000);
    await b.write({ ...part('NDX', 'NDX:e1', 2), contracts: null, tickers: null });
    expect(Object.keys((await latest(hh)).doc.symbols).sort()).toEqual(['NDX', 'SPX']);
    expect((await latest(hh)).doc.version).toBe(before);
    // SPX's worker is gone too (no lease): NDX's next assembly leaves SPX out.
    await hh.bus.cmd.del(hh.keys.workerLease('SPX'));
    await b.write({ ...part('NDX', 'NDX:e1', 2), contracts: null, tickers: null });
    doc = (await latest(hh)).doc;
    expect(Object.keys(doc.symbols)).toEqual(['NDX']);
    expect(Object.keys(doc.contracts)).toEqual(['O:NDXW0000', 'O:NDXW0001']);
    expect(doc.version).toBe(before + 1);
    const delta = JSON.parse((await hh.bus.cmd.get(hh.keys.latestDelta)) as string) as Delta;
    expect(delta).toMatchObject({
      version: before + 1,
      entered: [],
      exited: ['O:SPXW0000', 'O:SPXW0001', 'O:SPXW0002'],
    });
    expect(await hh.bus.cmd.exists(hh.keys.latestPart('SPX'))).toBe(0);
    // SPX comes back (a worker holds it again): every ticker enters.
    await hh.bus.cmd.set(hh.keys.epochContracts('SPX:e2'), 'x', 'EX', 300);
    const c = new ChainLatestStore(hh.bus, hh.keys);
    await c.write(part('SPX', 'SPX:e2', 1));
    doc = (await latest(hh)).doc;
    expect(Object.keys(doc.symbols).sort()).toEqual(['NDX', 'SPX']);
    expect(JSON.parse((await hh.bus.cmd.get(hh.keys.latestDelta)) as string)).toMatchObject({
      version: before + 2,
      entered: ['O:SPXW0000'],
      exited: [],
    });
  });

  it('one process, two symbols in flight: one assembly carries both parts; Redis keeps no copy of a fragment outside the document', async () => {
    h = await startHarness(target, { sim: { contractsPerExpiration: 5 } });
    const hh = h;
    const r = hh.bus.cmd;
    // A fragment key as versions before the layout left it: removed by the symbol's first part write.
    await r.set(hh.keys.latestContracts('SPX'), 'old copy');
    const store = new ChainLatestStore(hh.bus, hh.keys);
    const part = (u: string) => onePart(u, { delta: true, cycle: `I:${u}` });
    store.begin('I:SPX');
    store.begin('I:NDX');
    // SPX's part first; its assembly waits for NDX's cycle, whose part comes 100 ms later.
    const first = store.write(part('SPX'));
    await new Promise((res) => setTimeout(res, 100));
    await Promise.all([first, store.write(part('NDX'))]);
    expect(store.commits).toEqual({ stale: 0, current: 0, new_version: 1 });
    const { doc } = await latest(hh);
    expect(doc.symbols).toEqual({ NDX: { u: 'NDX' }, SPX: { u: 'SPX' } });
    expect(doc.version).toBe(1);
    const delta = JSON.parse((await r.get(hh.keys.latestDelta)) as string) as Delta;
    expect(delta).toMatchObject({ version: 1, entered: ['O:NDXW0001', 'O:SPXW0001'], exited: [] });
    expect(await r.exists(hh.keys.latestContracts('SPX'), hh.keys.latestContracts('NDX'))).toBe(0);
    // The layout locates each part in the document (GETRANGE gives its bytes back).
    const layout = await r.hgetall(hh.keys.latestLayout);
    expect(Object.keys(layout).sort()).toEqual(['NDX', 'SPX']);
    const [, ss, sl, cs, cl] = (layout.SPX as string).split(':').map(Number);
    expect(await r.getrange(hh.keys.latest, ss!, ss! + sl! - 1)).toBe('{"u":"SPX"}');
    expect(await r.getrange(hh.keys.latest, cs!, cs! + cl! - 1)).toBe('"O:SPXW0001":{"u":"SPX"}');
    // A cycle that ends without a part (it failed) releases the wait at once.
    store.begin('I:SPX');
    store.begin('I:NDX');
    const t0 = performance.now();
    setTimeout(() => store.end('I:NDX'), 200);
    await store.write(part('SPX'));
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(ASSEMBLY_WAIT_MS);
    expect(store.commits.current).toBe(1);
  }, 30_000);

  it("a symbol's fragments alternate between two buffers: a replaced one is reused only once no assembly can be sending it", async () => {
    h = await startHarness(target, { sim: { contractsPerExpiration: 5 } });
    const hh = h;
    const store = new ChainLatestStore(hh.bus, hh.keys);
    const tickers = ['O:SPXW0001', 'O:SPXW0002'];
    /** Round r's fragment, written into the store's buffer as the cycle does. */
    const fragment = (r: number): Buffer => {
      const bytes = contractsFragment(
        tickers.map((ticker) => ({ ticker, bytes: Buffer.from(`{"r":${r}}`) })),
      );
      const into = store.fragmentBuffer('SPX', bytes.length);
      bytes.copy(into);
      return into;
    };
    const part = (r: number, contracts: Buffer): PartWrite => ({
      underlying: 'SPX',
      summary: JSON.stringify({ r }),
      contracts,
      tickers,
      ts: Date.now() / 1000,
      delta: false,
    });
    const contractsOf = async (): Promise<Record<string, unknown>> => (await latest(hh)).doc.contracts;

    const one = fragment(1);
    await store.write(part(1, one));
    expect(await contractsOf()).toEqual({ 'O:SPXW0001': { r: 1 }, 'O:SPXW0002': { r: 1 } });
    const two = fragment(2);
    expect(two.buffer).not.toBe(one.buffer);
    // Round 2 replaces round 1's part while an assembly is under way (waiting for NDX's cycle): round 1's
    // buffer is not handed out again until that assembly has ended.
    store.begin('I:NDX');
    await store.writePart(part(2, two));
    const running = store.assemble();
    const during = store.fragmentBuffer('SPX', one.length);
    expect(during.buffer).not.toBe(one.buffer);
    store.end('I:NDX');
    await running;
    expect(await contractsOf()).toEqual({ 'O:SPXW0001': { r: 2 }, 'O:SPXW0002': { r: 2 } });
    // `during` was replaced by nothing (never written): round 3 gets round 1's memory, the document its bytes.
    const three = fragment(3);
    expect(three.buffer).toBe(one.buffer);
    await store.write(part(3, three));
    expect(await contractsOf()).toEqual({ 'O:SPXW0001': { r: 3 }, 'O:SPXW0002': { r: 3 } });
    const four = fragment(4);
    expect(four.buffer).toBe(two.buffer);
    await store.write(part(4, four));
    expect(await contractsOf()).toEqual({ 'O:SPXW0001': { r: 4 }, 'O:SPXW0002': { r: 4 } });
    // A fragment the store did not hand out (the caller's own buffer) is never reused.
    const own = contractsFragment(tickers.map((ticker) => ({ ticker, bytes: Buffer.from('{"r":5}') })));
    await store.write(part(5, own));
    await store.write(part(6, fragment(6)));
    expect(store.fragmentBuffer('SPX', 1).buffer).not.toBe(own.buffer);
  }, 30_000);

  it('a layout that does not describe the document (another program wrote it): the symbol is left out, the document stays valid JSON', async () => {
    const { hh, a, b } = await twoWriters();
    const part = (u: string) => onePart(u, { delta: false });
    await a.write(part('SPX'));
    // SPX's ranges shifted by one byte: what GETRANGE returns there is not a summary nor a fragment.
    const entry = (await hh.bus.cmd.hget(hh.keys.latestLayout, 'SPX')) as string;
    const [token, ...n] = entry.split(':');
    await hh.bus.cmd.hset(hh.keys.latestLayout, 'SPX', [token, ...n.map((x) => Number(x) + 1)].join(':'));
    await b.write(part('NDX'));
    const { doc } = await latest(hh);
    expect(doc.symbols).toEqual({ NDX: { u: 'NDX' } });
    expect(doc.contracts).toEqual({ 'O:NDXW0001': { u: 'NDX' } });
    // A's next write puts SPX back (its own part, from memory).
    await a.write(part('SPX'));
    expect((await latest(hh)).doc.symbols).toEqual({ NDX: { u: 'NDX' }, SPX: { u: 'SPX' } });
  }, 30_000);

  it('setLarge of a multi-MB value given in pieces stores exactly their concatenation, with its TTL', async () => {
    h = await startHarness(target, { sim: { contractsPerExpiration: 5 } });
    const hh = h;
    // ~7 MB in uneven pieces (an empty one too), every byte value present.
    const sizes = [1, 3_000_000, 0, 17, 4_000_000, 2];
    const pieces = sizes.map((n, i) => Buffer.from(Array.from({ length: n }, (_, j) => (i * 31 + j) % 256)));
    const key = hh.keys.latestStaging('pieces-test');
    await hh.bus.setLarge(key, pieces, 60);
    const got = await hh.bus.cmd.getBuffer(key);
    expect(got?.length).toBe(7_000_020);
    expect(got?.equals(Buffer.concat(pieces))).toBe(true);
    const ttl = await hh.bus.cmd.ttl(key);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
    // One buffer, no TTL: the same path as before.
    await hh.bus.setLarge(key, Buffer.from('x'));
    expect(await hh.bus.cmd.get(key)).toBe('x');
    expect(await hh.bus.cmd.ttl(key)).toBe(-1);
    await hh.bus.cmd.del(key);
  }, 60_000);

  it("a store reads another writer's contracts fragment from the document only when its token changed (the same bytes as a fresh read)", async () => {
    const { hh, a, b } = await twoWriters();
    const part = (u: string, round: number) => ({
      underlying: u,
      summary: JSON.stringify({ round }),
      contracts: contractsFragment([{ ticker: `O:${u}W0001`, bytes: Buffer.from(`{"round":${round}}`) }]),
      tickers: [`O:${u}W0001`],
      ts: Date.now() / 1000,
      delta: true,
    });
    // One worker holding both symbols: it never reads its own fragments back.
    await a.write(part('SPX', 1));
    await a.write(part('NDX', 1));
    expect(a.fragments).toEqual({ read: 0, cached: 0 });
    // Another writer takes NDX over (its lease moved): it reads SPX from the document once.
    await b.write(part('NDX', 2));
    expect(b.fragments).toEqual({ read: 1, cached: 0 });
    // A's next assembly sees NDX's token changed: B's part stands (A's older one is dropped), read once.
    await a.write(part('SPX', 2));
    expect(a.fragments).toEqual({ read: 1, cached: 0 });
    // A merge (contracts kept) keeps the fragment and its token: NDX from the cache, nothing read.
    await a.write({ ...part('SPX', 3), contracts: null, tickers: null });
    expect(a.fragments).toEqual({ read: 1, cached: 1 });
    const doc = (await latest(hh)).doc;
    expect(doc.symbols).toEqual({ SPX: { round: 3 }, NDX: { round: 2 } });
    expect(doc.contracts).toEqual({ 'O:SPXW0001': { round: 2 }, 'O:NDXW0001': { round: 2 } });
    // A store with nothing cached assembles the same bytes from Redis alone.
    const fresh = new ChainLatestStore(hh.bus, hh.keys);
    const mine = await a.read(1_800_000_000);
    const theirs = await fresh.read(1_800_000_000);
    expect(fresh.fragments).toEqual({ read: 2, cached: 0 });
    expect(mine.bytes.equals(theirs.bytes)).toBe(true);
  }, 60_000);
});
