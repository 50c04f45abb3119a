import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { LiveChain } from '../../src/live/live-chain.js';
import { startLive } from '../../src/live/start-live.js';
import { ModelBuilder } from '../../src/models/builder.js';
import type { GexModel, HeatmapModel } from '../../src/models/types.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { SimStreamSource } from '../../src/provider/local-api/ws-feed.js';
import { startStreamServer } from '../../src/provider/local-api/ws-server.js';
import type { StreamEvent } from '../../src/provider/massive/stream-protocol.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';
import { RedisBus } from '../../src/redis/bus.js';
import { SINGLE_URL } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { expectedGex, price, years } from '../support/independent-gex.js';
import { readIndex } from '../support/contract-index.js';

// Wednesday 2026-01-07 10:00 New York.
const T0 = Date.parse('2026-01-07T15:00:00Z');

describe('live chain: stream hydration on the single server', () => {
  let h: Harness | undefined;
  let live: LiveChain | undefined;
  let builder: ModelBuilder | undefined;
  afterEach(async () => {
    await live?.stop();
    await builder?.stop();
    await h?.close();
    live = builder = h = undefined;
  });

  it('quotes, trades and a live spot move the levels as computed independently; a REST snapshot replaces the live state', async () => {
    let marketNow = T0;
    let liveNow = T0 + 1000;
    h = await startHarness(
      { name: 'single', url: SINGLE_URL, cluster: false },
      { sim: { clock: () => marketNow }, env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } },
    );
    const first = await runCycle(h.deps, 'I:SPX', '');
    const epochId = first.epochId as string;
    builder = new ModelBuilder({ ...h, owner: 'b1' });
    await builder.drain();
    const snapshotModel = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel;
    expect(snapshotModel.live).toEqual({
      source: 'snapshot',
      spot_source: 'snapshot',
      last_tick_ts: null,
      streamed_contracts: 0,
      quote_age_ms: null,
    });

    const options: string[][] = [];
    const indices: string[][] = [];
    live = new LiveChain({
      ...h,
      subscriber: { setOptions: (p) => options.push(p), setIndices: (p) => indices.push(p) },
      clock: () => liveNow,
    });
    expect(indices).toEqual([['V.I:SPX']]);
    expect(await live.step()).toEqual([]); // loads the snapshot; nothing streamed yet
    const st = live.stateOf('SPX');
    expect(st?.epochId).toBe(epochId);
    // Quotes and trades of the same contracts, at most 1,000 quoted on the connection.
    const params = options.at(-1) ?? [];
    const quotedParams = params.filter((p) => p.startsWith('Q.'));
    expect(quotedParams).toHaveLength(Math.min(1000, st?.contracts ?? 0));
    expect(params.filter((p) => p.startsWith('T.')).sort()).toEqual(
      quotedParams.map((p) => `T.${p.slice(2)}`).sort(),
    );

    const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
    const base = (await h.bus.getMany(ids.map((id) => h!.keys.epochContract(epochId, id)))).map(
      (s) => JSON.parse(s as string) as ContractSubstrate,
    );
    const s0 = Number(await h.bus.cmd.hget(h.keys.epochMeta(epochId), 'spot'));
    const s1 = Math.round(s0 * 1.004 * 100) / 100;
    // Three subscribed contracts quoted at a vol 2 points above their snapshot IV.
    const subscribed = new Set(st?.subscribed);
    const quoted = base
      .filter((c) => subscribed.has(c.id) && c.iv !== null && years(liveNow, c) > 0)
      .slice(0, 3);
    expect(quoted).toHaveLength(3);
    const quotedIv = new Map(quoted.map((c) => [c.id, (c.iv as number) + 0.02]));
    const tick = T0 + 900;
    const events: StreamEvent[] = quoted.map((c, i) => {
      const p = price(c.type === 'call', s1, c.strike, years(liveNow, c), quotedIv.get(c.id) as number);
      return {
        ev: 'Q',
        sym: c.id,
        bx: 1,
        ax: 1,
        bp: p - 0.05,
        ap: p + 0.05,
        bs: 1,
        as: 1,
        t: tick,
        q: 10 + i,
      };
    });
    const unknown: StreamEvent = {
      ...(events[0] as StreamEvent),
      sym: 'O:SPX990101C00001000',
    } as StreamEvent;
    // One duplicate, one contract not subscribed.
    live.onEvents('options', [...events, { ...(events[0] as StreamEvent) }, unknown], Date.now());
    live.onEvents('indices', [{ ev: 'V', T: 'I:SPX', val: s1, t: tick }], Date.now());
    expect(live.counters).toEqual({ duplicates: 1, outOfOrder: 0, accepted: 3 });
    // Trades: one quoted contract and one subscribed but not quoted. A duplicate sequence is dropped, a
    // trade older than the snapshot is already in its day volume.
    const q0 = quoted[0] as ContractSubstrate;
    const tradedOnly = base.find(
      (c) => subscribed.has(c.id) && !quotedIv.has(c.id) && c.iv !== null && years(liveNow, c) > 0,
    ) as ContractSubstrate;
    const trade = (sym: string, s: number, q: number, t = tick): StreamEvent => ({
      ev: 'T',
      sym,
      x: 1,
      p: 1,
      s,
      c: [],
      t,
      q,
    });
    live.onEvents(
      'options',
      [
        trade(q0.id, 50, 99, T0 - 1000),
        trade(q0.id, 3, 100),
        trade(q0.id, 4, 101),
        trade(q0.id, 4, 101),
        trade(tradedOnly.id, 7, 200),
      ],
      Date.now(),
    );
    const streamedVolume = new Map([
      [q0.id, 7],
      [tradedOnly.id, 7],
    ]);
    // The counters, added per call rather than per event, count every event and every drop.
    const counted = async (c: {
      get(): Promise<{ values: { labels: object; value: number }[] }>;
    }): Promise<Record<string, number>> =>
      Object.fromEntries((await c.get()).values.map((v) => [Object.values(v.labels).join('/'), v.value]));
    expect(await counted(h.deps.metrics.streamMessages)).toEqual({
      'options/Q': 5,
      'indices/V': 1,
      'options/T': 5,
    });
    expect(await counted(h.deps.metrics.streamDropped)).toEqual({ duplicate: 2, unknown_contract: 1 });

    const [built] = await live.step();
    expect(built).toMatchObject({
      symbol: 'SPX',
      trigger: 'quotes+trades+spot',
      spot: s1,
      streamed: 3,
      published: true,
    });
    const gex = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel;
    const heat = JSON.parse((await h.bus.cmd.get(h.keys.model('heatmap', 'SPX'))) as string) as HeatmapModel;
    expect(gex.live).toEqual({
      source: 'stream',
      spot_source: 'stream',
      last_tick_ts: new Date(tick).toISOString(),
      streamed_contracts: 3,
      quote_age_ms: { p50: 100, p95: 100 },
    });
    expect(heat.live?.source).toBe('stream');
    // A live build carries the epoch's header fields like the snapshot build does.
    expect(snapshotModel.provider).toBe(h.deps.config.provider);
    expect(gex.provider).toBe(snapshotModel.provider);
    expect(heat.provider).toBe(snapshotModel.provider);
    expect(gex.partial).toBe(false);
    expect(gex.spot).toBe(s1);
    expect(gex.epoch_id).toBe(epochId);

    const want = expectedGex(base, s1, liveNow, (c) => quotedIv.get(c.id) ?? c.iv);
    expect(Math.abs(gex.totals.net - want.net)).toBeLessThan(Math.abs(want.net) * 1e-6 + 1);
    expect(gex.levels.call_wall).toBe(want.callWall);
    expect(gex.levels.put_wall).toBe(want.putWall);
    expect(gex.levels.abs_gamma_strike).toBe(want.absGamma);
    expect(want.zeroGamma).not.toBeNull();
    expect(Math.abs((gex.levels.zero_gamma as number) - (want.zeroGamma as number))).toBeLessThan(0.02);
    // The volume basis: the snapshot's day volume plus the trades streamed since.
    const volumeOf = (c: ContractSubstrate): number | null => {
      const add = streamedVolume.get(c.id);
      return add === undefined ? c.volume : (c.volume ?? 0) + add;
    };
    const wantVol = expectedGex(base, s1, liveNow, (c) => quotedIv.get(c.id) ?? c.iv, volumeOf);
    const vol = gex.by_basis.volume.totals.net;
    expect(Math.abs(vol - wantVol.net)).toBeLessThan(Math.abs(wantVol.net) * 1e-6 + 1);
    const withoutTrades = expectedGex(
      base,
      s1,
      liveNow,
      (c) => quotedIv.get(c.id) ?? c.iv,
      (c) => c.volume,
    );
    expect(Math.abs(vol - withoutTrades.net)).toBeGreaterThan(1);
    // …and they moved: the snapshot model is what the same maths gives at the snapshot spot and time.
    expect(gex.totals.net).not.toBe(snapshotModel.totals.net);
    // (Zero gamma is a root of the profile, which under sticky strike depends on the IVs and the clock, not on
    // spot: with three contracts re-quoted and a second gone by it may stay within the same cent.)

    // Substrates: only the quoted contracts were rewritten, TTL kept; the meta counts the updates.
    const written = JSON.parse(
      (await h.bus.cmd.get(h.keys.epochContract(epochId, q0.id))) as string,
    ) as ContractSubstrate;
    expect(Math.abs((written.iv as number) - (quotedIv.get(q0.id) as number))).toBeLessThan(1e-6);
    expect(written.ts).toBe(tick / 1000);
    expect(written.volume).toBe((q0.volume ?? 0) + 7);
    expect(await h.bus.cmd.ttl(h.keys.epochContract(epochId, q0.id))).toBeGreaterThan(0);
    const tradedWritten = JSON.parse(
      (await h.bus.cmd.get(h.keys.epochContract(epochId, tradedOnly.id))) as string,
    ) as ContractSubstrate;
    expect(tradedWritten.volume).toBe((tradedOnly.volume ?? 0) + 7);
    expect(tradedWritten.iv).toBe(tradedOnly.iv); // not quoted: snapshot IV
    const untouched = base.find((c) => !quotedIv.has(c.id) && !streamedVolume.has(c.id)) as ContractSubstrate;
    expect(JSON.parse((await h.bus.cmd.get(h.keys.epochContract(epochId, untouched.id))) as string)).toEqual(
      untouched,
    );
    const meta = await h.bus.cmd.hgetall(h.keys.epochMeta(epochId));
    expect(meta.stream_updates).toBe('3');
    expect(Number(meta.last_stream_ts)).toBe(tick / 1000);

    // Nothing new: no build.
    expect(await live.step()).toEqual([]);

    // A REST snapshot lands (the next sim tick, same geometry: a refresh): it replaces the live state.
    marketNow = T0 + 5000;
    liveNow = T0 + 6000;
    const second = await runCycle(h.deps, 'I:SPX', '');
    expect(second.epochId).toBe(epochId);
    expect(await live.step()).toEqual([]);
    const after = live.stateOf('SPX');
    expect(after).toMatchObject({ epochId, quotes: 0, pending: 0, liveSpot: null });
    expect(after?.refreshTs).not.toBe(st?.refreshTs);
    await builder.drain();
    const rest = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel;
    expect(rest.live?.source).toBe('snapshot');
    // A spot older than the snapshot is ignored; a newer one moves the model again.
    live.onEvents('indices', [{ ev: 'V', T: 'I:SPX', val: s1 + 50, t: T0 + 4000 }], Date.now());
    expect(await live.step()).toEqual([]);
    live.onEvents('indices', [{ ev: 'V', T: 'I:SPX', val: s1 + 5, t: T0 + 5500 }], Date.now());
    const [moved] = await live.step();
    expect(moved).toMatchObject({ trigger: 'spot', spot: s1 + 5, streamed: 0, published: true });
  });
});

describe('live chain: quotes the snapshot would refuse', () => {
  it('a crossed or negative quote is dropped and counted; the contract keeps its last good quote', async () => {
    const h = await startHarness(
      { name: 'single', url: SINGLE_URL, cluster: false },
      { sim: { clock: () => T0 }, env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } },
    );
    const live = new LiveChain({
      ...h,
      subscriber: { setOptions: () => {}, setIndices: () => {} },
      clock: () => T0 + 1000,
    });
    try {
      const first = await runCycle(h.deps, 'I:SPX', '');
      const epochId = first.epochId as string;
      expect(await live.step()).toEqual([]);
      const subscribed = new Set(live.stateOf('SPX')?.subscribed);
      const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
      const base = (await h.bus.getMany(ids.map((id) => h.keys.epochContract(epochId, id)))).map(
        (s) => JSON.parse(s as string) as ContractSubstrate,
      );
      const [a, b] = base.filter((c) => subscribed.has(c.id) && c.iv !== null && years(T0 + 1000, c) > 0);
      if (!a || !b) throw new Error('no quotable contracts');
      const spot = Number(await h.bus.cmd.hget(h.keys.epochMeta(epochId), 'spot'));
      const quote = (c: ContractSubstrate, bp: number, ap: number, q: number, t: number): StreamEvent => ({
        ev: 'Q',
        sym: c.id,
        bx: 1,
        ax: 1,
        bp,
        ap,
        bs: 1,
        as: 1,
        t,
        q,
      });
      const fair = price(a.type === 'call', spot, a.strike, years(T0 + 1000, a), (a.iv as number) + 0.01);
      live.onEvents('options', [quote(a, fair - 0.05, fair + 0.05, 1, T0 + 500)], Date.now());
      const [good] = await live.step();
      expect(good).toMatchObject({ trigger: 'quotes', streamed: 1, published: true });
      const read = async (c: ContractSubstrate): Promise<ContractSubstrate> =>
        JSON.parse((await h.bus.cmd.get(h.keys.epochContract(epochId, c.id))) as string) as ContractSubstrate;
      const applied = await read(a);
      expect(Math.abs((applied.iv as number) - ((a.iv as number) + 0.01))).toBeLessThan(1e-6);
      // Crossed (bid above ask) and a negative bid: the normalizer rejects both in a REST snapshot.
      live.onEvents(
        'options',
        [quote(a, fair + 1, fair - 1, 2, T0 + 600), quote(b, -0.05, 1, 3, T0 + 600)],
        Date.now(),
      );
      expect(await live.step()).toEqual([]);
      expect(await read(a)).toEqual(applied);
      expect(await read(b)).toEqual(b);
      const dropped = Object.fromEntries(
        (await h.metrics.streamDropped.get()).values.map((v) => [String(v.labels.reason), v.value]),
      );
      expect(dropped).toEqual({ crossed_quote: 1, negative_price: 1 });
      // A locked quote (bid = ask) is a quote.
      live.onEvents('options', [quote(a, fair, fair, 4, T0 + 700)], Date.now());
      const [locked] = await live.step();
      expect(locked).toMatchObject({ streamed: 1, published: true });
      expect(await read(a)).toMatchObject({ bid: fair, ask: fair, mid: fair });
    } finally {
      await live.stop();
      await h.close();
    }
  });
});

describe('live chain: a re-choice of the subscriptions', () => {
  it('a contract that left the subscriptions has its pending quote dropped, not applied after it left', async () => {
    let liveNow = T0 + 1000;
    const h = await startHarness(
      { name: 'single', url: SINGLE_URL, cluster: false },
      { sim: { clock: () => T0 }, env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } },
    );
    const live = new LiveChain({
      ...h,
      subscriber: { setOptions: () => {}, setIndices: () => {} },
      clock: () => liveNow,
    });
    try {
      const first = await runCycle(h.deps, 'I:SPX', '');
      const epochId = first.epochId as string;
      expect(await live.step()).toEqual([]);
      const subscribed = new Set(live.stateOf('SPX')?.subscribed);
      const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
      const base = (await h.bus.getMany(ids.map((id) => h.keys.epochContract(epochId, id)))).map(
        (s) => JSON.parse(s as string) as ContractSubstrate,
      );
      // Two quoted contracts: one of today's SPXW (settles at 16:00 New York, 21:00 UTC), one of a later date.
      const today = base.find((c) => subscribed.has(c.id) && c.expiration === '2026-01-07' && c.iv !== null);
      const later = base.find((c) => subscribed.has(c.id) && c.expiration > '2026-01-07' && c.iv !== null);
      if (!today || !later) throw new Error('no quotable contracts');
      const spot = Number(await h.bus.cmd.hget(h.keys.epochMeta(epochId), 'spot'));
      const quote = (c: ContractSubstrate, q: number): StreamEvent => ({
        ev: 'Q',
        sym: c.id,
        bx: 1,
        ax: 1,
        bp: (c.bid ?? 1) + 0.1,
        ap: (c.ask ?? 2) + 0.1,
        bs: 1,
        as: 1,
        t: T0 + 900,
        q,
      });
      live.onEvents('options', [quote(today, 1), quote(later, 2)], Date.now());
      // Before the next build the clock passes today's settlement and spot moves 1 %: the choice is made
      // again, without today's contracts.
      liveNow = Date.parse('2026-01-07T21:00:01Z');
      const moved = Math.round(spot * 1.01 * 100) / 100;
      live.onEvents('indices', [{ ev: 'V', T: 'I:SPX', val: moved, t: liveNow }], Date.now());
      const [built] = await live.step();
      const after = new Set(live.stateOf('SPX')?.subscribed);
      expect(after.has(today.id)).toBe(false);
      expect(after.has(later.id)).toBe(true);
      expect(built).toMatchObject({ trigger: 'quotes+spot', spot: moved, streamed: 1, applied: 1 });
      expect(live.stateOf('SPX')?.quotes).toBe(1);
      // Today's substrate is the snapshot's; the later one carries its quote.
      const read = async (c: ContractSubstrate): Promise<ContractSubstrate> =>
        JSON.parse((await h.bus.cmd.get(h.keys.epochContract(epochId, c.id))) as string) as ContractSubstrate;
      expect(await read(today)).toEqual(today);
      expect(await read(later)).toMatchObject({ bid: (later.bid ?? 1) + 0.1, ts: (T0 + 900) / 1000 });
    } finally {
      await live.stop();
      await h.close();
    }
  });
});

describe('live chain: only the symbols whose lease the worker holds', () => {
  it('a symbol another worker holds is neither subscribed nor built; taken over, it streams; lost, it stops', async () => {
    const h = await startHarness(
      { name: 'single', url: SINGLE_URL, cluster: false },
      { env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } },
    );
    let held = false;
    const options: string[][] = [];
    const live = new LiveChain({
      ...h,
      subscriber: { setOptions: (p) => options.push(p), setIndices: () => {} },
      holds: (vendor) => held && vendor === 'I:SPX',
    });
    try {
      const first = await runCycle(h.deps, 'I:SPX', '');
      const epochId = first.epochId as string;
      const spot = Number(await h.bus.cmd.hget(h.keys.epochMeta(epochId), 'spot'));
      const v = (val: number): void =>
        live.onEvents('indices', [{ ev: 'V', T: 'I:SPX', val, t: Date.now() }], Date.now());
      const publishedGex = async (): Promise<string | null> =>
        await h.bus.cmd.get(h.keys.model('gex', 'SPX'));
      // Another worker holds SPX: nothing loaded, subscribed or published.
      expect(await live.step()).toEqual([]);
      v(spot + 1);
      expect(await live.step()).toEqual([]);
      expect(live.stateOf('SPX')).toMatchObject({ epochId: null, subscribed: [] });
      expect(options.flat()).toEqual([]);
      expect(await publishedGex()).toBeNull();
      // Taken over: loaded, subscribed, built.
      held = true;
      expect(await live.step()).toEqual([]);
      expect(live.stateOf('SPX')?.epochId).toBe(epochId);
      expect(options.at(-1)?.length).toBeGreaterThan(0);
      v(spot + 2);
      const [built] = await live.step();
      expect(built).toMatchObject({ trigger: 'spot', published: true });
      // Lost: the subscriptions go, the state is dropped, a new spot builds nothing.
      held = false;
      const before = await publishedGex();
      v(spot + 3);
      expect(await live.step()).toEqual([]);
      expect(options.at(-1)).toEqual([]);
      expect(live.stateOf('SPX')).toMatchObject({ epochId: null, subscribed: [], liveSpot: null });
      expect(await publishedGex()).toBe(before);
    } finally {
      await live.stop();
      await h.close();
    }
  });
});

describe('live chain: Redis down', () => {
  it('a pass that cannot reach Redis neither throws nor builds, and is counted', async () => {
    const h = await startHarness(
      { name: 'single', url: SINGLE_URL, cluster: false },
      { env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } },
    );
    // Nothing listens on port 1: every command fails after the bus's retries.
    const down = new RedisBus({ url: 'redis://127.0.0.1:1', name: 'down' });
    const live = new LiveChain({
      ...h,
      bus: down,
      subscriber: { setOptions: () => {}, setIndices: () => {} },
    });
    try {
      expect(await live.step()).toEqual([]);
      live.onEvents('indices', [{ ev: 'V', T: 'I:SPX', val: 6900, t: Date.now() }], Date.now());
      expect(await live.step()).toEqual([]);
      const failures = (await h.metrics.liveFailures.get()).values;
      expect(failures.map((v) => [v.labels.symbol, v.value])).toEqual([['SPX', 2]]);
      const t0 = Date.now();
      await live.stop();
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      await live.stop();
      await down.close();
      await h.close();
    }
  });
});

describe('live chain: a snapshot the live thread cannot read', () => {
  it('a corrupt substrate publishes no live model until the snapshot is readable again', async () => {
    const h = await startHarness(
      { name: 'single', url: SINGLE_URL, cluster: false },
      { env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } },
    );
    const builder = new ModelBuilder({ ...h, owner: 'b1' });
    const live = new LiveChain({ ...h, subscriber: { setOptions: () => {}, setIndices: () => {} } });
    try {
      const first = await runCycle(h.deps, 'I:SPX', '');
      const epochId = first.epochId as string;
      await builder.drain();
      const snapshotGex = await h.bus.cmd.get(h.keys.model('gex', 'SPX'));
      const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
      const key = h.keys.epochContract(epochId, ids[0] as string);
      const good = (await h.bus.cmd.get(key)) as string;
      await h.bus.cmd.set(key, '{"id":', 'KEEPTTL', 'XX');
      const spot = Number(await h.bus.cmd.hget(h.keys.epochMeta(epochId), 'spot'));
      expect(await live.step()).toEqual([]);
      expect(live.stateOf('SPX')?.epochId).toBeNull();
      // A live spot: nothing is built from the unreadable snapshot, the snapshot model stays.
      live.onEvents('indices', [{ ev: 'V', T: 'I:SPX', val: spot + 1, t: Date.now() }], Date.now());
      expect(await live.step()).toEqual([]);
      expect(await h.bus.cmd.get(h.keys.model('gex', 'SPX'))).toBe(snapshotGex);
      // Readable again: loaded, and the next spot builds from every contract.
      await h.bus.cmd.set(key, good, 'KEEPTTL', 'XX');
      expect(await live.step()).toEqual([]);
      expect(live.stateOf('SPX')).toMatchObject({ epochId, contracts: ids.length });
      live.onEvents('indices', [{ ev: 'V', T: 'I:SPX', val: spot + 2, t: Date.now() }], Date.now());
      const [built] = await live.step();
      expect(built).toMatchObject({ trigger: 'spot', spot: spot + 2, published: true });
      const gex = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel;
      expect(gex.contract_count).toBe(ids.length);
    } finally {
      await live.stop();
      await builder.stop();
      await h.close();
    }
  });
});

describe('live chain: auth_failed stops streaming, not REST', () => {
  it('the stream fails for good while cycles and snapshot models go on', async () => {
    const h = await startHarness(
      { name: 'single', url: SINGLE_URL, cluster: false },
      { env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } },
    );
    const server = await startStreamServer({
      source: new SimStreamSource(new SimMarket({ seed: 7 })),
      indices: ['I:SPX'],
      apiKey: 'the-right-key',
    });
    const live = startLive({ ...h, wsUrl: server.url, apiKey: 'a-wrong-key' });
    const builder = new ModelBuilder({ ...h, owner: 'b1' });
    try {
      // A snapshot to stream: the options connection opens once the live chain has chosen its contracts.
      await runCycle(h.deps, 'I:SPX', '');
      await waitFor(() => live.client.options.state === 'failed' && live.client.indices.state === 'failed');
      const res = await runCycle(h.deps, 'I:SPX', '');
      expect(res.health).toBe('ok');
      await builder.drain();
      const gex = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel;
      expect(gex.epoch_id).toBe(res.epochId);
      expect(gex.live?.source).toBe('snapshot');
      await new Promise((r) => setTimeout(r, 1200));
      expect(server.stats()).toMatchObject({ connections: 2, authFailed: 2, authSuccess: 0 });
    } finally {
      await live.stop();
      await builder.stop();
      await server.close();
      await h.close();
    }
  });
});

describe('live chain: stream connections follow the leases', () => {
  it('a worker holding no symbol opens no stream connection; taking one opens both, losing the last closes them', async () => {
    const h = await startHarness(
      { name: 'single', url: SINGLE_URL, cluster: false },
      { env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX', CHAIN_LIVE_MODEL_HZ: '10' } },
    );
    const server = await startStreamServer({
      source: new SimStreamSource(new SimMarket({ seed: 7 })),
      indices: ['I:SPX'],
      apiKey: 'k',
    });
    let held = false;
    const live = startLive({ ...h, wsUrl: server.url, apiKey: 'k', holds: (v) => held && v === 'I:SPX' });
    const states = (): string[] => [live.client.options.state, live.client.indices.state];
    try {
      await runCycle(h.deps, 'I:SPX', '');
      // Another worker holds SPX: a second of passes (10 a second) and no connection was opened.
      await new Promise((r) => setTimeout(r, 1000));
      expect(server.stats()).toMatchObject({ connections: 0, open: 0 });
      expect(states()).toEqual(['idle', 'idle']);
      // Taken over: both feeds connect, authenticate and are subscribed (the symbol's quotes, its index).
      held = true;
      await waitFor(() => states().every((s) => s === 'live') && server.stats().quoteSubscriptions > 0);
      expect(server.stats()).toMatchObject({ connections: 2, open: 2 });
      expect(live.client.indices.subscriptions).toEqual(new Set(['V.I:SPX']));
      // Lost (the last one it held): both connections are closed, and stay closed.
      held = false;
      await waitFor(() => server.stats().open === 0);
      expect(states()).toEqual(['idle', 'idle']);
      await new Promise((r) => setTimeout(r, 500));
      expect(server.stats()).toMatchObject({ connections: 2, open: 0 });
      // Taken again: connected afresh (not counted as a reconnect: nothing was lost).
      held = true;
      await waitFor(() => states().every((s) => s === 'live'));
      expect(server.stats()).toMatchObject({ connections: 4, open: 2 });
      expect((await h.metrics.streamReconnects.get()).values).toEqual([]);
    } finally {
      await live.stop();
      await server.close();
      await h.close();
    }
  });
});

describe('live chain: a stream reconnect', () => {
  it("a new session's quotes and trades are accepted although the server numbers them afresh", async () => {
    // Six quoted contracts at 600 quotes/s: each gets ~100 a second, its `q` rising by 1-3 each.
    const h = await startHarness(
      { name: 'single', url: SINGLE_URL, cluster: false },
      { env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX', MASSIVE_STREAM_MAX_CONTRACTS: '6' } },
    );
    const server = await startStreamServer({
      source: new SimStreamSource(new SimMarket({ seed: 7 })),
      indices: ['I:SPX'],
      apiKey: 'k',
      faults: { ratePerSec: 600 },
    });
    const live = startLive({ ...h, wsUrl: server.url, apiKey: 'k' });
    const dropped = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        (await h.metrics.streamDropped.get()).values.map((v) => [String(v.labels.reason), v.value]),
      );
    try {
      await runCycle(h.deps, 'I:SPX', '');
      // The first session runs until every contract's `q` is far above where the next session starts
      // (the local server starts each contract at 1,000,000 on every connection).
      await waitFor(() => live.chain.counters.accepted >= 600, 10_000);
      server.drop();
      await waitFor(() => live.client.options.stats.reconnects === 1 && live.client.options.state === 'live');
      const atLive = live.chain.counters.accepted;
      // ~25 quotes per contract of the new session, all below the old session's marks (100 or more each).
      // Waited for by count, not by time: the server sends per tick of its timer, and on a loaded machine
      // (CI) half a second held five of its ticks, 150 quotes.
      await waitFor(() => live.chain.counters.accepted - atLive > 150, 10_000);
      expect(live.chain.counters).toMatchObject({ duplicates: 0, outOfOrder: 0 });
      // Trades (their own sequence check) included: nothing was dropped for its sequence.
      expect(await dropped()).not.toHaveProperty('out_of_order');
      expect(await dropped()).not.toHaveProperty('duplicate');
      expect(server.stats().tradesSent).toBeGreaterThan(0);
      const reconnects = (await h.metrics.streamReconnects.get()).values;
      expect(Object.fromEntries(reconnects.map((v) => [String(v.labels.feed), v.value]))).toEqual({
        options: 1,
        indices: 1,
      });
    } finally {
      await live.stop();
      await server.close();
      await h.close();
    }
  });
});

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
