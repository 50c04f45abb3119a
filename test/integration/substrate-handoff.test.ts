/**
 * The substrates a cycle wrote, handed to the model builder of the same process: byte for byte what the
 * builder reads back from Redis, used only for the same epoch and refresh time, Redis otherwise.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { joinJsonArray } from '../../src/models/build-models.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { SubstrateHandoff } from '../../src/models/substrate-handoff.js';
import type { GexModel } from '../../src/models/types.js';
import { ChainLatestStore, type PartWrite } from '../../src/wiring/chain-latest.js';
import { EpochStore } from '../../src/wiring/epoch-store.js';
import { redisTargets } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];

/**
 * Runs a cycle whose `onCommitted` started a drain (read through `drainOf` once the cycle is done), checks
 * the drain built the cycle's epoch from the handoff, and leaves 100 ms for the last pub/sub messages.
 */
async function cycleBuiltFromHandoff(
  deps: Parameters<typeof runCycle>[0],
  drainOf: () => ReturnType<ModelBuilder['drain']> | undefined,
): Promise<Awaited<ReturnType<typeof runCycle>>> {
  const res = await runCycle(deps, 'I:SPX', '');
  expect(res.ok).toBe(true);
  const outcomes = await (drainOf() as NonNullable<ReturnType<typeof drainOf>>);
  expect(outcomes).toMatchObject([{ epochId: res.epochId, status: 'built', source: 'handoff' }]);
  await new Promise((r) => setTimeout(r, 100));
  return res;
}

describe('substrate handoff (cycle → builder, one process)', () => {
  let h: Harness | undefined;
  let builder: ModelBuilder | undefined;
  afterEach(async () => {
    await builder?.stop();
    builder = undefined;
    await h?.close();
    h = undefined;
  });

  async function setUp(): Promise<{ h: Harness; handoff: SubstrateHandoff; b: ModelBuilder }> {
    h = await startHarness(single);
    const handoff = new SubstrateHandoff();
    h.deps.handoff = handoff;
    const { bus, keys, config, logger, metrics } = h;
    builder = new ModelBuilder({ bus, keys, config, logger, metrics, owner: 'b1', handoff });
    return { h, handoff, b: builder };
  }

  it('offers the bytes the builder would read back, and the build uses them', async () => {
    const { h, handoff, b } = await setUp();
    const res = await runCycle(h.deps, 'I:SPX', '');
    expect(res.ok).toBe(true);
    const epochId = res.epochId as string;
    const epochs = new EpochStore(h.bus, h.keys);
    const refreshTs = await epochs.refreshTs(epochId);
    expect(refreshTs).not.toBe('');
    const ids = (await epochs.contractIds(epochId)) as string[];
    expect(ids).toHaveLength(res.contracts);
    const fromRedis = Buffer.from(joinJsonArray(await epochs.substrateBytes(epochId, ids)));
    expect(handoff.size).toBe(1);
    const handed = handoff.take(epochId, refreshTs) as Uint8Array;
    expect(Buffer.from(handed).equals(fromRedis)).toBe(true);
    expect((JSON.parse(fromRedis.toString('utf8')) as unknown[]).length).toBe(res.contracts);

    // Offered again as written; the substrate keys gone from Redis: the build cannot have read them.
    handoff.offer('SPX', epochId, refreshTs, handed);
    await h.bus.cmd.del(...ids.map((id) => h.keys.epochContract(epochId, id)));
    const [outcome] = await b.drain();
    expect(outcome).toMatchObject({ epochId, status: 'built', source: 'handoff', contracts: res.contracts });
    expect(handoff.size).toBe(0);
    const gex = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel;
    expect(gex.contract_count).toBe(res.contracts);
    expect(gex.epoch_id).toBe(epochId);
  });

  it('reads Redis when the offer is of another refresh time, and the models are the same', async () => {
    const { h, handoff, b } = await setUp();
    const res = await runCycle(h.deps, 'I:NDX', '');
    const epochId = res.epochId as string;
    const refreshTs = await new EpochStore(h.bus, h.keys).refreshTs(epochId);
    const handed = handoff.take(epochId, refreshTs) as Uint8Array;
    expect(handed).not.toBeNull();
    // An offer of an older refresh (a cycle whose write was overtaken): not used.
    handoff.offer('NDX', epochId, `${refreshTs}0`, handed);
    const [fromRedis] = await b.drain();
    expect(fromRedis).toMatchObject({ epochId, status: 'built', source: 'redis' });
    const viaRedis = (await h.bus.cmd.get(h.keys.model('heatmap', 'NDX'))) as string;
    // The same epoch built again from the handoff: the same model but for its build time.
    handoff.offer('NDX', epochId, refreshTs, handed);
    await h.bus.cmd.sadd(h.keys.epochDirty, epochId);
    const [fromHandoff] = await b.drain();
    expect(fromHandoff).toMatchObject({ epochId, status: 'built', source: 'handoff' });
    const viaHandoff = (await h.bus.cmd.get(h.keys.model('heatmap', 'NDX'))) as string;
    const noTs = (s: string): string => s.replace(/"ts":"[^"]*"/, '"ts":""');
    expect(viaHandoff.length).toBeGreaterThan(10_000);
    expect(noTs(viaHandoff)).toBe(noTs(viaRedis));
  });

  it('keeps one offer per symbol and drops the offer of an epoch it will not build', async () => {
    const handoff = new SubstrateHandoff();
    handoff.offer('SPX', 'SPX:1:aaaaaa', '1', new Uint8Array([0x5b, 0x5d]));
    handoff.offer('NDX', 'NDX:1:aaaaaa', '1', new Uint8Array([0x5b, 0x5d]));
    handoff.offer('SPX', 'SPX:2:bbbbbb', '2', new Uint8Array([0x5b, 0x5d]));
    expect(handoff.size).toBe(2);
    expect(handoff.take('SPX:1:aaaaaa', '1')).toBeNull();
    expect(handoff.take('SPX:2:bbbbbb', '1')).toBeNull();
    expect(handoff.take('SPX:2:bbbbbb', '2')).not.toBeNull();
    const { h, b } = await setUp();
    const res = await runCycle(h.deps, 'I:SPX', '');
    const again = await runCycle(h.deps, 'I:SPX', '');
    expect(h.deps.handoff?.size).toBe(1);
    // The first epoch, if it was superseded: its offer (already replaced) is not used; the active one's is.
    const outcomes = await b.drain();
    const built = outcomes.filter((o) => o.status === 'built');
    expect(built.map((o) => o.epochId)).toContain(again.epochId);
    expect(built.every((o) => o.source === 'handoff')).toBe(true);
    expect(res.ok && again.ok).toBe(true);
    expect(h.deps.handoff?.size).toBe(0);
  });

  it('starts the build when the epoch is committed, and writes the models after the cycle announced it', async () => {
    const { h, b } = await setUp();
    const at: Record<string, number> = {};
    const sub = h.bus.duplicate();
    sub.on('message', (channel: string) => {
      const name = channel === h?.keys.modelsChannel ? 'models' : 'snapshot';
      at[name] ??= performance.now();
    });
    await sub.subscribe(h.keys.modelsChannel, h.keys.snapshotChannel);
    let drain: ReturnType<ModelBuilder['drain']> | undefined;
    const deps = {
      ...h.deps,
      // A slow cycle observer: the publish phase lasts at least 600 ms.
      observers: [
        {
          name: 'slow',
          snapshotApplied: async (): Promise<void> => {
            at.observerStart = performance.now();
            await new Promise((r) => setTimeout(r, 600));
            at.observerEnd = performance.now();
          },
        },
      ],
      onCommitted: (): void => {
        at.committed = performance.now();
        drain = b.drain();
      },
    };
    await cycleBuiltFromHandoff(deps, () => drain);
    sub.disconnect();
    // The build began before the publish phase; the models were announced after the cycle's announcement
    // and after its observers were told.
    expect(at.committed).toBeLessThan(at.observerStart as number);
    expect(at.snapshot).toBeLessThan(at.models as number);
    expect(at.observerEnd).toBeLessThanOrEqual(at.models as number);
    expect(await h.bus.cmd.exists(h.keys.model('gex', 'SPX'))).toBe(1);
  });
  it('writes massive:chain:latest after releasing the epoch: a slow assembly does not delay the models', async () => {
    const { h, b } = await setUp();
    const at: Record<string, number> = {};
    const sub = h.bus.duplicate();
    sub.on('message', (channel: string) => {
      if (channel === h?.keys.modelsChannel) at.models ??= performance.now();
    });
    await sub.subscribe(h.keys.modelsChannel);
    // A real store whose part write starts 1.5 s late (a slow multi-MB fragment and assembly).
    class SlowLatest extends ChainLatestStore {
      override async write(p: PartWrite): Promise<void> {
        at.latestStart = performance.now();
        await new Promise((r) => setTimeout(r, 1_500));
        await super.write(p);
        at.latestEnd = performance.now();
      }
    }
    let drain: ReturnType<ModelBuilder['drain']> | undefined;
    const deps = {
      ...h.deps,
      latest: new SlowLatest(h.bus, h.keys),
      onCommitted: (): void => {
        drain = b.drain();
      },
    };
    const res = await cycleBuiltFromHandoff(deps, () => drain);
    sub.disconnect();
    // The models were announced while the document was still being written (before, they waited for it).
    expect(at.models).toBeGreaterThan(at.latestStart as number);
    expect(at.models).toBeLessThan(at.latestEnd as number);
    expect(res.phases.latest).toBeGreaterThanOrEqual(1_500);
    expect(res.phases.publish).toBeLessThan(1_500);
    // The cycle still returns once the document carries its epoch.
    const doc = JSON.parse((await h.bus.cmd.get(h.keys.latest)) as string) as {
      symbols: Record<string, { epoch_id: string }>;
    };
    expect(doc.symbols.SPX?.epoch_id).toBe(res.epochId);
  });
});
