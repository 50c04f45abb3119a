/**
 * Fault: on a Redis Cluster of its own (3 masters), a master that holds part of a new epoch restarts empty
 * once the epoch's substrates are written, before its meta and the flip of `epoch:active` (which lives on another master). On a cluster
 * the promotion script cannot check the meta and index (other slots): the worker must notice that a node
 * it wrote to went away and abandon the promotion, so `epoch:active` never points at an epoch that lost
 * keys. Skipped with TEST_NO_CLUSTER=1 (it starts three redis-servers).
 */
import calculateSlot from 'cluster-key-slot';
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { EpochStore } from '../../src/wiring/epoch-store.js';
import { RedisClusterProcess } from '../../tools/redis-servers.js';
import { readIndex } from '../support/contract-index.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

const NO_CLUSTER = process.env.TEST_NO_CLUSTER === '1';

describe.skipIf(NO_CLUSTER)('Cluster: a master restarted empty between the epoch writes and the flip', () => {
  let cluster: RedisClusterProcess | undefined;
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close().catch(() => undefined);
    h = undefined;
    await cluster?.destroy();
    cluster = undefined;
  }, 60_000);

  it('the promotion is abandoned (EpochLostError), epoch:active keeps the complete epoch, the next cycle promotes', async () => {
    const c = new RedisClusterProcess();
    cluster = c;
    await c.start(3);
    h = await startHarness({ name: 'cluster', url: c.url, cluster: true });
    const hh = h;
    const first = await runCycle(hh.deps, 'I:SPX', '');
    expect(first).toMatchObject({ ok: true, promoted: true });

    // Restart (SIGKILL, no persistence: it comes back empty, owning its slots) a master that does not hold
    // epoch:active once the new epoch's substrates and index are acknowledged, before its meta and the flip:
    // it held about a third of them.
    const activeOwner = await c.ownerOf(calculateSlot(hh.keys.epochActive));
    const victim = (await c.topology()).find((n) => n.role === 'master' && n.id !== activeOwner.id);
    if (!victim) throw new Error('no other master');
    // The contracts' bulk write (sent once the contract index is compressed, after the meta's turn came).
    let bulkSent: (p: Promise<void>) => void = () => undefined;
    const bulk = new Promise<void>((r) => (bulkSent = r)); // settles as the write does
    const writeBulk = hh.bus.writeBulk.bind(hh.bus);
    hh.bus.writeBulk = (cmds) => {
      const p = writeBulk(cmds);
      if (cmds.length > 100) bulkSent(p);
      return p;
    };
    let armed = true;
    let restartedEpoch: string | undefined;
    class RestartBeforeMeta extends EpochStore {
      override async writeMeta(
        epochId: string,
        fields: Parameters<EpochStore['writeMeta']>[1],
      ): Promise<void> {
        if (armed) {
          armed = false;
          restartedEpoch = epochId;
          await bulk.catch(() => undefined);
          const p = c.processOf(victim as NonNullable<typeof victim>);
          await p.stop();
          await p.start();
          await c.waitHealthy(20_000);
        }
        return super.writeMeta(epochId, fields);
      }
    }
    const deps = { ...hh.deps, epochs: new RestartBeforeMeta(hh.bus, hh.keys) };
    (hh.market as SimMarket).adjust({ contractsPerExpiration: 120 }); // a new geometry: the cycle promotes
    const lost = await runCycle(deps, 'I:SPX', '');
    expect(restartedEpoch).toBeDefined();
    const active = await hh.bus.cmd.hget(hh.keys.epochActive, 'SPX');
    expect(active).not.toBe(restartedEpoch);
    expect(active).toBe(first.epochId);
    expect(lost.ok).toBe(false);
    expect(lost.error?.name).toBe('EpochLostError');
    expect(lost.error?.message).toMatch(/reconnected|lost/);

    // The next cycle promotes a complete epoch: meta, index and every substrate present.
    const next = await runCycle(deps, 'I:SPX', '');
    expect(next).toMatchObject({ ok: true, promoted: true });
    const id = next.epochId as string;
    expect(await hh.bus.cmd.hget(hh.keys.epochActive, 'SPX')).toBe(id);
    expect(await hh.bus.cmd.hget(hh.keys.epochMeta(id), 'contract_count')).toBe(String(next.contracts));
    const ids = await readIndex(hh.bus.cmd, hh.keys.epochContracts(id));
    expect(ids).toHaveLength(next.contracts);
    const subs = await hh.bus.getMany(ids.map((x) => hh.keys.epochContract(id, x)));
    expect(subs.filter((s) => s === null)).toHaveLength(0);
  }, 90_000);
});
