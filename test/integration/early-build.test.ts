/**
 * Early builds (models/early-build.ts): the builder of the process starts the model maths when a cycle
 * offers its substrates, beside the cycle's writes, and the epoch's build publishes that result only for the
 * committed epoch, the same refresh time and the same meta as Redis holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { SubstrateHandoff } from '../../src/models/substrate-handoff.js';
import type { GexModel } from '../../src/models/types.js';
import { redisTargets } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];
const noTs = (s: string): string => s.replace(/"ts":"[^"]*"/, '"ts":""');

describe('early model builds (one process)', () => {
  let h: Harness | undefined;
  const builders: ModelBuilder[] = [];
  afterEach(async () => {
    for (const b of builders.splice(0)) await b.stop();
    await h?.close();
    h = undefined;
  });

  async function setUp(): Promise<{
    h: Harness;
    handoff: SubstrateHandoff;
    b: ModelBuilder;
    offers: number[];
  }> {
    h = await startHarness(single);
    const offers: number[] = [];
    // Records when each offer that carries the meta was made (the early build starts right then).
    class Recording extends SubstrateHandoff {
      override offer(...args: Parameters<SubstrateHandoff['offer']>): void {
        if (args[4] !== undefined) offers.push(performance.now());
        super.offer(...args);
      }
    }
    const handoff = new Recording();
    h.deps.handoff = handoff;
    const { bus, keys, config, logger, metrics } = h;
    const b = new ModelBuilder({ bus, keys, config, logger, metrics, owner: 'b1', handoff });
    builders.push(b);
    return { h, handoff, b, offers };
  }

  /** The same epoch built again by a builder of its own, from Redis only. */
  async function rebuiltFromRedis(h: Harness, epochId: string): Promise<string> {
    const { bus, keys, config, logger, metrics } = h;
    const b = new ModelBuilder({ bus, keys, config, logger, metrics, owner: 'b2' });
    builders.push(b);
    await bus.cmd.sadd(keys.epochDirty, epochId);
    const [outcome] = await b.drain();
    expect(outcome).toMatchObject({ epochId, status: 'built', source: 'redis' });
    return (await bus.cmd.get(keys.model('heatmap', epochId.split(':')[0] as string))) as string;
  }

  it('starts the maths when the cycle offers, before its commit; the build takes them; the same models as from Redis', async () => {
    const { h, b, offers } = await setUp();
    let committedAt = 0;
    const res = await runCycle(
      {
        ...h.deps,
        onCommitted: () => {
          committedAt = performance.now();
        },
      },
      'I:SPX',
      '',
    );
    expect(res.ok).toBe(true);
    expect(offers).toHaveLength(1);
    expect(offers[0]).toBeLessThan(committedAt);
    const [outcome] = await b.drain();
    expect(outcome).toMatchObject({
      epochId: res.epochId,
      status: 'built',
      source: 'early',
      contracts: res.contracts,
    });
    const early = (await h.bus.cmd.get(h.keys.model('heatmap', 'SPX'))) as string;
    const gex = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel;
    expect(gex.epoch_id).toBe(res.epochId);
    expect(gex.contract_count).toBe(res.contracts);
    expect(await h.bus.cmd.sismember(h.keys.epochClean, res.epochId as string)).toBe(1);
    const viaRedis = await rebuiltFromRedis(h, res.epochId as string);
    expect(early.length).toBeGreaterThan(10_000);
    expect(noTs(early)).toBe(noTs(viaRedis));
  });

  it('does not use an early build whose meta Redis no longer holds (another writer moved spot)', async () => {
    const { h, b } = await setUp();
    const res = await runCycle(h.deps, 'I:SPX', '');
    expect(res.ok).toBe(true);
    const epochId = res.epochId as string;
    const spot = Number(await h.bus.cmd.hget(h.keys.epochMeta(epochId), 'spot'));
    await h.bus.cmd.hset(h.keys.epochMeta(epochId), 'spot', String(spot + 10));
    const [outcome] = await b.drain();
    // The early build took the offer, so the build read the substrates back from Redis.
    expect(outcome).toMatchObject({ epochId, status: 'built', source: 'redis' });
    const gex = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel;
    expect(gex.spot).toBe(spot + 10);
  });

  it('publishes nothing from the early build of a cycle that never committed (lease lost)', async () => {
    const { h, b, offers } = await setUp();
    await h.bus.cmd.set(h.keys.workerLease('SPX'), 'other|7', 'PX', 10_000);
    const res = await runCycle(h.deps, 'I:SPX', 'me|3');
    expect(res.ok).toBe(false);
    expect(res.error?.name).toBe('FencedError');
    // It was offered and built early...
    expect(offers).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1_500));
    // ...but no epoch is active or dirty: a drain builds nothing and no model is written.
    expect(await b.drain()).toEqual([]);
    expect(await h.bus.cmd.exists(h.keys.model('gex', 'SPX'), h.keys.model('heatmap', 'SPX'))).toBe(0);
  });

  it('a later cycle of the symbol replaces the early build: the build of the active epoch uses its own', async () => {
    const { h, b, offers } = await setUp();
    const first = await runCycle(h.deps, 'I:SPX', '');
    const second = await runCycle(h.deps, 'I:SPX', '');
    expect(first.ok && second.ok).toBe(true);
    expect(offers).toHaveLength(2);
    const built = (await b.drain()).filter((o) => o.status === 'built');
    expect(built).toMatchObject([{ epochId: second.epochId, source: 'early' }]);
    const gex = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel;
    expect(gex.epoch_id).toBe(second.epochId);
  });
});
