/**
 * Defect 1: a partial snapshot (one expiration's stream failed) must never shrink the chain. It is merged
 * into the active epoch: same id, geometry and contract count, no raw key deleted, the fetched contracts
 * refreshed, the others kept (TTLs renewed); the meta, the models and the snapshot announcement say
 * `partial` and which expirations are missing. The next complete snapshot clears it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { ModelBuilder } from '../../src/models/builder.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { parseOptionTicker } from '../../src/provider/massive/ticker.js';
import { redisTargets } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndex } from '../support/contract-index.js';

/** 10:00 New York on a trading day: the sim's clock, moved by hand. */
const T0 = Date.parse('2026-01-07T15:00:00.000Z');

interface Header {
  epoch_id: string;
  contract_count: number;
  partial: boolean;
  missing_expirations: string[];
  provider: string | null;
  stale: boolean;
}

describe.each(redisTargets())('partial snapshots on $name', (target) => {
  let h: Harness | undefined;
  let builder: ModelBuilder | undefined;
  afterEach(async () => {
    await builder?.stop();
    builder = undefined;
    await h?.close();
    h = undefined;
  });

  async function substrates(
    epochId: string,
    ids: readonly string[],
  ): Promise<Map<string, ContractSubstrate>> {
    const hh = h as Harness;
    const raw = await hh.bus.getMany(ids.map((id) => hh.keys.epochContract(epochId, id)));
    const out = new Map<string, ContractSubstrate>();
    raw.forEach((v, i) => {
      if (v !== null) out.set(ids[i] as string, JSON.parse(v) as ContractSubstrate);
    });
    return out;
  }

  function rawKeyOf(id: string): string {
    const p = parseOptionTicker(id);
    if (!p) throw new Error(`bad id ${id}`);
    return (h as Harness).keys.snapshot({ underlying: 'SPX', ...p });
  }

  async function model(): Promise<Header> {
    const hh = h as Harness;
    return JSON.parse((await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))) as string) as Header;
  }

  it('a failed expiration stream refreshes inside the active epoch; a complete snapshot clears partial', async () => {
    let now = T0;
    h = await startHarness(target, {
      sim: { clock: () => now },
      // One stream at a time and no retries: the first queued 500 fails exactly the first expiration.
      env: { MASSIVE_CONCURRENCY: '1', MASSIVE_MAX_RETRIES: '0' },
    });
    builder = new ModelBuilder({ ...h, owner: 'b-partial' });
    const sub = h.bus.duplicate();
    const announced: Record<string, unknown>[] = [];
    sub.on('message', (_c: string, m: string) => announced.push(JSON.parse(m) as Record<string, unknown>));
    await sub.subscribe(h.keys.snapshotChannel);

    // 1. Complete snapshot: the epoch.
    const first = await runCycle(h.deps, 'I:SPX', '');
    expect(first).toMatchObject({ ok: true, promoted: true, partial: false });
    const epochId = first.epochId as string;
    const meta1 = await h.bus.cmd.hgetall(h.keys.epochMeta(epochId));
    expect(meta1).toMatchObject({ partial: '0', missing_expirations: '[]', provider: 'sim' });
    const lastComplete1 = Number(meta1.last_complete_ts);
    expect(lastComplete1).toBeGreaterThan(1e9);
    expect(lastComplete1).toBeLessThan(1e11); // seconds, not ms
    const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
    expect(ids).toHaveLength(first.contracts);
    const expirations = JSON.parse(meta1.expirations as string) as string[];
    expect(expirations).toHaveLength(5);
    const failed = expirations[0] as string;
    const before = await substrates(epochId, ids);
    await builder.drain();
    expect(await model()).toMatchObject({ partial: false, missing_expirations: [], provider: 'sim' });

    // Shorten the TTLs of one contract of the expiration about to fail: the merge must renew them.
    const keptId = ids.find((id) => before.get(id)?.expiration === failed) as string;
    await h.bus.cmd.expire(h.keys.epochContract(epochId, keptId), 5);
    await h.bus.cmd.expire(rawKeyOf(keptId), 5);

    // 2. Partial snapshot: a new tick (new values), the first expiration's stream fails.
    now = T0 + 10_000;
    h.api.setFaults({ queue: ['500'] });
    const partial = await runCycle(h.deps, 'I:SPX', '');
    expect(partial).toMatchObject({
      ok: true,
      health: 'partial',
      promoted: false,
      merged: true,
      epochId,
      partial: true,
      missingExpirations: [failed],
      outsideGeometry: 0,
    });
    expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toBe(epochId);
    const meta2 = await h.bus.cmd.hgetall(h.keys.epochMeta(epochId));
    expect(meta2).toMatchObject({
      contract_count: meta1.contract_count,
      geometry_hash: meta1.geometry_hash,
      expirations: meta1.expirations,
      status: 'active',
      partial: '1',
      missing_expirations: JSON.stringify([failed]),
      last_complete_ts: meta1.last_complete_ts,
    });
    expect(await readIndex(h.bus.cmd, h.keys.epochContracts(epochId))).toEqual(ids);
    // No raw key deleted (every contract of the epoch still has one).
    const raw = await h.bus.getMany(ids.map(rawKeyOf));
    expect(raw.filter((v) => v === null)).toEqual([]);
    // Fetched contracts carry the new tick's values; the failed expiration's are kept as they were.
    const after = await substrates(epochId, ids);
    expect(after.size).toBe(ids.length);
    let refreshed = 0;
    for (const id of ids) {
      const a = after.get(id) as ContractSubstrate;
      const b = before.get(id) as ContractSubstrate;
      if (a.expiration === failed) expect(a).toEqual(b);
      else if (JSON.stringify(a) !== JSON.stringify(b)) refreshed++;
    }
    expect(refreshed).toBeGreaterThan((ids.length * 3) / 5);
    expect(await h.bus.cmd.ttl(h.keys.epochContract(epochId, keptId))).toBeGreaterThan(5);
    expect(await h.bus.cmd.ttl(rawKeyOf(keptId))).toBeGreaterThan(5);
    await builder.drain();
    expect(await model()).toMatchObject({
      epoch_id: epochId,
      contract_count: ids.length,
      partial: true,
      missing_expirations: [failed],
      provider: 'sim',
    });

    // 3. Complete snapshot again: same epoch refreshed, partial cleared.
    now = T0 + 20_000;
    const complete = await runCycle(h.deps, 'I:SPX', '');
    expect(complete).toMatchObject({ ok: true, epochId, promoted: false, partial: false });
    const meta3 = await h.bus.cmd.hgetall(h.keys.epochMeta(epochId));
    expect(meta3).toMatchObject({ partial: '0', missing_expirations: '[]' });
    expect(Number(meta3.last_complete_ts)).toBeGreaterThanOrEqual(lastComplete1);
    await builder.drain();
    expect(await model()).toMatchObject({ partial: false, missing_expirations: [] });

    sub.disconnect();
    expect(announced.map((m) => [m.partial, m.missing_expirations, m.contract_count, m.epoch_id])).toEqual([
      [false, [], ids.length, epochId],
      [true, [failed], ids.length, epochId],
      [false, [], ids.length, epochId],
    ]);
  });

  it('with no active epoch a partial snapshot may promote the first epoch (and deletes nothing)', async () => {
    h = await startHarness(target, { env: { MASSIVE_CONCURRENCY: '1', MASSIVE_MAX_RETRIES: '0' } });
    // Discovery takes the first five requests; the sixth is the first expiration's stream.
    h.api.setFaults({ queue: [] });
    const res = await runCycle(h.deps, 'I:SPX', '');
    expect(res.ok).toBe(true);
    const epochId = res.epochId as string;
    // Make the epoch's index vanish (a dead worker's epoch expired): a partial snapshot has nothing to
    // keep and promotes, without pruning.
    await h.bus.cmd.del(h.keys.epochContracts(epochId));
    h.api.setFaults({ queue: ['500'] });
    const partial = await runCycle(h.deps, 'I:SPX', '');
    expect(partial).toMatchObject({ ok: true, promoted: true, partial: true });
    expect(partial.epochId).not.toBe(epochId);
    const meta = await h.bus.cmd.hgetall(h.keys.epochMeta(partial.epochId as string));
    expect(meta.partial).toBe('1');
    expect(meta.last_complete_ts).toBeUndefined();
    expect(JSON.parse(meta.missing_expirations as string)).toHaveLength(1);
  });
  it('a partial snapshot ends a run of failed cycles: the epoch turns dormant only after failures in a row', async () => {
    let now = T0;
    h = await startHarness(target, {
      sim: { clock: () => now },
      env: { MASSIVE_CONCURRENCY: '1', MASSIVE_MAX_RETRIES: '0', CHAIN_DORMANT_THRESHOLD: '3' },
    });
    const first = await runCycle(h.deps, 'I:SPX', '');
    expect(first).toMatchObject({ ok: true, promoted: true });
    const epochId = first.epochId as string;
    const meta = (): Promise<Record<string, string>> => h!.bus.cmd.hgetall(h!.keys.epochMeta(epochId));
    // A failed cycle: the API answers every request 503.
    const fail = async (): Promise<void> => {
      now += 10_000;
      h!.api.setFaults({ down: true });
      expect(await runCycle(h!.deps, 'I:SPX', '')).toMatchObject({ ok: false });
      h!.api.setFaults({ down: false });
    };
    await fail();
    await fail();
    expect(await meta()).toMatchObject({ dormant_count: '2', status: 'active' });
    // A successful (partial) cycle: every stream answers, then loops on its next_url.
    now += 10_000;
    h.api.setFaults({ nextUrlLoop: true });
    expect(await runCycle(h.deps, 'I:SPX', '')).toMatchObject({ ok: true, merged: true, epochId });
    h.api.setFaults({ nextUrlLoop: false });
    expect(await meta()).toMatchObject({ dormant_count: '0', status: 'active' });
    // One failure after it is one failed cycle in a row, not the third: the epoch stays active.
    await fail();
    expect(await meta()).toMatchObject({ dormant_count: '1', status: 'active' });
    // The next complete snapshot refreshes it in place (no recovery promotion, no forced_dirty).
    now += 10_000;
    expect(await runCycle(h.deps, 'I:SPX', '')).toMatchObject({ ok: true, promoted: false, epochId });
  });

  it('a partial snapshot keeps a dormant epoch dormant; the complete one recovers it', async () => {
    let now = T0;
    h = await startHarness(target, {
      sim: { clock: () => now },
      env: { MASSIVE_CONCURRENCY: '1', MASSIVE_MAX_RETRIES: '0', CHAIN_DORMANT_THRESHOLD: '2' },
    });
    const first = await runCycle(h.deps, 'I:SPX', '');
    const epochId = first.epochId as string;
    h.api.setFaults({ down: true });
    for (let i = 0; i < 2; i++) {
      now += 10_000;
      expect(await runCycle(h.deps, 'I:SPX', '')).toMatchObject({ ok: false });
    }
    h.api.setFaults({ down: false });
    const meta = (): Promise<Record<string, string>> => h!.bus.cmd.hgetall(h!.keys.epochMeta(epochId));
    expect(await meta()).toMatchObject({ dormant_count: '2', status: 'dormant' });
    now += 10_000;
    h.api.setFaults({ nextUrlLoop: true });
    expect(await runCycle(h.deps, 'I:SPX', '')).toMatchObject({ ok: true, merged: true, epochId });
    h.api.setFaults({ nextUrlLoop: false });
    expect(await meta()).toMatchObject({ dormant_count: '2', status: 'dormant' });
    now += 10_000;
    expect(await runCycle(h.deps, 'I:SPX', '')).toMatchObject({
      ok: true,
      promoted: true,
      promoteReason: 'recovery',
    });
  });
});
