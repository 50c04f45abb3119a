/**
 * `massive:events` through real Redis: level events exactly once across two builders and a restart,
 * jitter silent; lifecycle events from real cycles (epoch_promoted with its geometry change, health,
 * dormant, recovered, shutdown) and one end-to-end run through the model builder.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { ChainWorker } from '../../src/chain-worker/worker.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { EventsOutput } from '../../src/outputs/events/writer.js';
import type { ModelsPublished } from '../../src/outputs/observers.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { chainEvent, type ChainEvent } from '../../src/schemas/published.js';
import { redisTargets } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndexOrEmpty } from '../support/contract-index.js';

async function readEvents(h: Harness): Promise<(ChainEvent & { id: string })[]> {
  const entries = await h.bus.conn.xrange(h.keys.events, '-', '+');
  return entries.map(([id, fields]) => {
    expect(fields[0]).toBe('payload');
    // Every entry is valid against the published schema.
    const ev = chainEvent.parse(JSON.parse(fields[1] as string));
    return { id, ...ev };
  });
}

/** A GEX build as the builder announces it: as-of `t` seconds into the test, spot, zero gamma, call wall. */
function build(t: number, spot: number, zg: number, callWall = 6100): ModelsPublished {
  return {
    underlying: 'SPX',
    symbol: 'I:SPX',
    epochId: 'SPX:1:abcdef',
    ts: 1_764_000_000_000 + t * 1000,
    trigger: 'snapshot',
    asOf: 1_764_000_000_000 + t * 1000,
    spot,
    levels: { zeroGamma: zg, net: 1e9, gross: 4e9, callWall, putWall: 5900 },
    models: { gex: Buffer.from('{}'), heatmap: Buffer.from('{}') },
  };
}

describe.each(redisTargets())('massive:events on $name', (target) => {
  let h: Harness | undefined;
  let worker: ChainWorker | undefined;
  afterEach(async () => {
    worker?.stop();
    await worker?.shutdown();
    worker = undefined;
    await h?.close();
    h = undefined;
  });

  it('level events: once per crossing with two builders racing and one restarting; jitter and replays silent', async () => {
    h = await startHarness(target);
    const hh = h;
    const writer = (): EventsOutput => new EventsOutput(hh.bus, hh.keys, hh.config, hh.logger);
    // Spot drifts down through zero gamma (6000; the band is 0.1 % of spot, ~6), jitters there, the call
    // wall moves to 6150 and holds, then spot comes back up.
    const seq = [
      build(0, 6012, 6000),
      build(30, 6004, 6000),
      build(60, 5998, 6000),
      build(90, 5991, 6000), // down
      build(120, 5996, 6000, 6150),
      build(150, 5994, 6000, 6150), // wall 6100 → 6150 (held two builds)
      build(180, 5999, 6000, 6150),
      build(210, 5995, 6000, 6150),
      build(240, 6010, 6000, 6150), // up
    ];
    const a = writer();
    const b = writer();
    for (const [i, m] of seq.entries()) {
      // Both builders are told about every build at once (two processes on one dirty epoch), and a
      // restarted builder (a fresh instance) re-announces an old build.
      await Promise.all([a.modelsPublished(m), b.modelsPublished(m), writer().modelsPublished(m)]);
      if (i > 0) await writer().modelsPublished(seq[i - 1] as ModelsPublished);
    }
    const events = await readEvents(h);
    expect(events.map((e) => [e.type, 'direction' in e ? e.direction : 'to' in e ? e.to : null])).toEqual([
      ['zero_gamma_crossed', 'down'],
      ['wall_moved', 6150],
      ['zero_gamma_crossed', 'up'],
    ]);
    expect(events[0]).toMatchObject({
      symbol: 'SPX',
      epoch_id: 'SPX:1:abcdef',
      spot: 5991,
      zero_gamma: 6000,
      as_of: 1_764_000_090,
    });
    expect(events[1]).toMatchObject({ wall: 'call', from: 6100, to: 6150, as_of: 1_764_000_150 });
    // The state lives in Redis: version = builds applied once each.
    const st = await h.bus.cmd.hgetall(h.keys.eventLevels('SPX'));
    expect(Number(st.v)).toBe(seq.length);
    expect(Number(st.as_of)).toBe(1_764_000_240);
    expect(await h.bus.cmd.ttl(h.keys.eventLevels('SPX'))).toBeGreaterThan(29 * 86_400);
  });

  it('epoch_promoted from real cycles carries reason and the geometry change; a refresh adds nothing', async () => {
    h = await startHarness(target);
    const a = await runCycle(h.deps, 'I:SPX', '');
    await runCycle(h.deps, 'I:SPX', '');
    const before = await readIndexOrEmpty(h.bus.cmd, h.keys.epochContracts(a.epochId as string));
    (h.market as SimMarket).adjust({ contractsPerExpiration: 120 });
    const c = await runCycle(h.deps, 'I:SPX', '');
    const after = await readIndexOrEmpty(h.bus.cmd, h.keys.epochContracts(c.epochId as string));
    const strikesOf = (ids: string[]): Set<number> =>
      new Set(ids.map((id) => Number.parseInt(id.slice(-8), 10) / 1000));
    const ps = strikesOf(before);
    const ns = strikesOf(after);
    const events = await readEvents(h);
    expect(events.map((e) => e.type)).toEqual(['epoch_promoted', 'epoch_promoted']);
    expect(events[0]).toMatchObject({
      symbol: 'SPX',
      epoch_id: a.epochId,
      reason: 'first',
      prev_epoch_id: null,
      geometry: null,
      contracts: a.contracts,
    });
    expect(events[1]).toMatchObject({
      epoch_id: c.epochId,
      reason: 'geometry',
      prev_epoch_id: a.epochId,
      contracts: after.length,
      geometry: {
        expirations: { entered: [], left: [] },
        strikes: {
          entered: [...ns].filter((x) => !ps.has(x)).sort((x, y) => x - y),
          left: [...ps].filter((x) => !ns.has(x)).sort((x, y) => x - y),
        },
        contracts: {
          entered: after.filter((x) => !before.includes(x)).length,
          left: before.filter((x) => !after.includes(x)).length,
        },
      },
    });
    const e1 = events[1] as ChainEvent & { geometry: { strikes: { left: number[] } } };
    expect(e1.geometry.strikes.left.length).toBeGreaterThan(0);
    expect(Math.abs(e1.ts - Date.now() / 1000)).toBeLessThan(60);
  });

  it('end to end: a cycle and a model build set the level state; the build replayed adds nothing', async () => {
    h = await startHarness(target);
    const builder = new ModelBuilder({ ...h, owner: 'b-events' });
    try {
      const a = await runCycle(h.deps, 'I:SPX', '');
      await builder.drain();
      const st = await h.bus.cmd.hgetall(h.keys.eventLevels('SPX'));
      expect(st.v).toBe('1');
      const meta = await h.bus.cmd.hgetall(h.keys.epochMeta(a.epochId as string));
      expect(Number(st.as_of)).toBe(Number(meta.as_of));
      const state = JSON.parse(st.state as string) as { call: { strike: number | null } };
      const gex = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) ?? '{}') as {
        levels: { call_wall: number | null };
      };
      expect(state.call.strike).toBe(gex.levels.call_wall);
      // The same epoch rebuilt (dirty again, no new snapshot): same as-of, so no second application.
      await h.bus.cmd.sadd(h.keys.epochDirty, a.epochId as string);
      await builder.drain();
      expect((await h.bus.cmd.hgetall(h.keys.eventLevels('SPX'))).v).toBe('1');
      expect((await readEvents(h)).map((e) => e.type)).toEqual(['epoch_promoted']);
    } finally {
      await builder.stop();
    }
  });

  it('a stop in the middle of a cycle: the shutdown event and the final heartbeat keep the active epoch', async () => {
    h = await startHarness(target, {
      env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.1', MASSIVE_CHAIN_SYMBOLS: 'I:SPX', MASSIVE_MAX_RETRIES: '0' },
    });
    const hh = h;
    worker = new ChainWorker({ ...h.deps, systemBus: h.bus }, { id: 'w-midcycle' });
    const run = worker.run();
    const deadline = Date.now() + 15_000;
    let promoted: ChainEvent[] = [];
    while (promoted.length === 0 && Date.now() < deadline) {
      promoted = (await readEvents(hh)).filter((e) => e.type === 'epoch_promoted');
      await new Promise((r) => setTimeout(r, 50));
    }
    const epochId = promoted[0]?.epoch_id;
    expect(epochId).toMatch(/^SPX:/);
    // Every page now takes 5 s: the next cycle is in its fetch when the signal comes.
    hh.api.setFaults({ latencyMs: 5_000 });
    const waitUntil = Date.now() + 10_000;
    while (worker.lastResults.get('I:SPX')?.epochId !== epochId && Date.now() < waitUntil)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 600));
    worker.stop('signal SIGTERM');
    await run;
    const events = await readEvents(hh);
    expect(events.at(-1)).toMatchObject({
      type: 'shutdown',
      reason: 'signal SIGTERM',
      symbols: [{ symbol: 'SPX', epoch_id: epochId }],
    });
    const beat = JSON.parse((await hh.bus.cmd.get(hh.keys.heartbeat)) ?? '{}') as {
      status: string;
      last_cycle: Record<string, { health: string; epoch_id: string | null }>;
    };
    expect(beat.status).toBe('stopped');
    expect(beat.last_cycle.SPX?.epoch_id).toBe(epochId);
    expect(beat.last_cycle.SPX?.health).not.toBe('failed');
  });

  it('the worker: health_changed, dormant and recovered once each; shutdown with its reason', async () => {
    h = await startHarness(target, {
      env: {
        MASSIVE_CHAIN_INTERVAL_SEC: '0.1',
        MASSIVE_CHAIN_SYMBOLS: 'I:SPX',
        CHAIN_DORMANT_THRESHOLD: '2',
        CHAIN_MAX_CONSECUTIVE_FAILURES: '50',
        MASSIVE_MAX_RETRIES: '0',
      },
    });
    const hh = h;
    worker = new ChainWorker({ ...h.deps, systemBus: h.bus }, { id: 'w-events' });
    const run = worker.run();
    const until = async (pred: (e: ChainEvent[]) => boolean, what: string): Promise<ChainEvent[]> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const evs = await readEvents(hh);
        if (pred(evs)) return evs;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(evs)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until((e) => e.some((x) => x.type === 'epoch_promoted'), 'the first promotion');
    h.api.setFaults({ errorRate: 1 });
    await until((e) => e.some((x) => x.type === 'dormant'), 'dormant');
    // A few more failed cycles past the threshold: still one dormant event.
    const failuresAt = worker.state.get('I:SPX')?.failures ?? 0;
    const deadline = Date.now() + 10_000;
    while ((worker.state.get('I:SPX')?.failures ?? 0) < failuresAt + 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    h.api.setFaults({ errorRate: 0 });
    await until((e) => e.some((x) => x.type === 'recovered'), 'recovered');
    worker.stop('signal SIGTERM');
    await run;
    const events = await readEvents(h);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'dormant')).toHaveLength(1);
    expect(types.filter((t) => t === 'recovered')).toHaveLength(1);
    const health = events.filter((e) => e.type === 'health_changed');
    expect(health.map((e) => e.to)).toContain('failed');
    expect(health.at(-1)?.from).toBe('failed');
    const promotions = events.filter((e) => e.type === 'epoch_promoted');
    expect(promotions.map((e) => e.reason)).toEqual(['first', 'recovery']);
    const recovered = events.find((e) => e.type === 'recovered');
    expect(recovered).toMatchObject({
      epoch_id: promotions[1]?.epoch_id,
      prev_epoch_id: promotions[0]?.epoch_id,
    });
    expect(events.at(-1)).toMatchObject({
      type: 'shutdown',
      symbol: null,
      worker: 'w-events',
      status: 'stopped',
      reason: 'signal SIGTERM',
      symbols: [{ symbol: 'SPX', epoch_id: promotions[1]?.epoch_id }],
    });
    // Stream ids are in order and unique.
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
