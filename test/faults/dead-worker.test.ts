/**
 * After a worker dies nothing keeps an epoch's index and substrates alive: readers detect an active epoch
 * whose contract index is gone and treat it as expired (inspect and /api/epochs say `expired: true`, the
 * meta status stays; the builder publishes nothing from it and the last model stays).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { inspect } from '../../src/serving/inspect.js';
import { redisTargets } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndex } from '../support/contract-index.js';

describe.each(redisTargets())('an expired active epoch on $name', (target) => {
  let h: Harness | undefined;
  let builder: ModelBuilder | undefined;
  afterEach(async () => {
    await builder?.stop();
    await h?.close();
    h = undefined;
  });

  it('inspect says expired, the builder does not publish from it, the last model stays', async () => {
    h = await startHarness(target, { env: { CHAIN_SUBSTRATE_TTL_SEC: '30' } });
    builder = new ModelBuilder({ ...h, owner: 'b-dead' });
    const res = await runCycle(h.deps, 'I:SPX', '');
    const epochId = res.epochId as string;
    await builder.drain();
    const model = await h.bus.cmd.get(h.keys.model('gex', 'SPX'));
    expect(model).not.toBeNull();
    expect((await inspect(h.bus, h.keys, ['SPX'])).symbols[0]).toMatchObject({ expired: false });
    // No worker renews anything: the index and substrates expire with their TTL. The TTL is the setting's;
    // the wait for it is cut short (a 1 s TTL ran out during the cycle and build on a loaded machine).
    const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
    const ttl = await h.bus.cmd.ttl(h.keys.epochContracts(epochId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
    for (const key of [
      h.keys.epochContracts(epochId),
      ...ids.map((id) => h!.keys.epochContract(epochId, id)),
    ])
      await h.bus.cmd.pexpire(key, 50);
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.bus.cmd.exists(h.keys.epochContracts(epochId))).toBe(0);
    const view = (await inspect(h.bus, h.keys, ['SPX'])).symbols[0];
    expect(view).toMatchObject({ epoch_id: epochId, status: 'active', expired: true, provider: 'sim' });
    await h.deps.epochs.markDirty(epochId);
    const [outcome] = await builder.drain();
    expect(outcome).toMatchObject({ epochId, status: 'missing' });
    expect(await h.bus.cmd.get(h.keys.model('gex', 'SPX'))).toBe(model);
  });

  it('substrates partly gone while the index remains (expired first, evicted, lost with a node): no model from the rest, the last model stays', async () => {
    h = await startHarness(target);
    builder = new ModelBuilder({ ...h, owner: 'b-lost' });
    const res = await runCycle(h.deps, 'I:SPX', '');
    const epochId = res.epochId as string;
    await builder.drain();
    const gex = await h.bus.cmd.get(h.keys.model('gex', 'SPX'));
    const heatmap = await h.bus.cmd.get(h.keys.model('heatmap', 'SPX'));
    expect(gex).not.toBeNull();
    // A third of the substrates disappear; the index and the meta stay (the epoch is not expired).
    const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
    const gone = ids.filter((_, i) => i % 3 === 0);
    for (const id of gone) await h.bus.cmd.del(h.keys.epochContract(epochId, id));
    await h.deps.epochs.markDirty(epochId);
    const [outcome] = await builder.drain();
    expect(outcome).toMatchObject({
      epochId,
      status: 'missing',
      error: `${gone.length} of ${ids.length} substrates missing`,
    });
    // Nothing was published from the two thirds left: both models are the complete epoch's, byte for byte.
    expect(await h.bus.cmd.get(h.keys.model('gex', 'SPX'))).toBe(gex);
    expect(await h.bus.cmd.get(h.keys.model('heatmap', 'SPX'))).toBe(heatmap);
    // The next cycle rewrites every substrate of the epoch (same geometry) and the build goes through.
    const next = await runCycle(h.deps, 'I:SPX', '');
    expect(next).toMatchObject({ ok: true, epochId });
    const [rebuilt] = await builder.drain();
    expect(rebuilt).toMatchObject({ epochId, status: 'built', contracts: ids.length });
    const m = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as {
      contract_count: number;
    };
    expect(m.contract_count).toBe(ids.length);
  });
});
