/**
 * The cycle observer extension point: what `snapshotApplied` carries (promotion reason, previous epoch,
 * geometry change, vendor bytes), that a failing observer never fails the cycle, and the worker's
 * `shutdown` hook with its reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { ChainWorker, EXIT } from '../../src/chain-worker/worker.js';
import { vendorBytes } from '../../src/provider/massive/vendor-bytes.js';
import {
  type CycleObserver,
  type HealthChanged,
  type SnapshotApplied,
  type WorkerShutdown,
} from '../../src/outputs/observers.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { snapshotKeyOf } from '../../src/wiring/snapshot-writes.js';
import { redisTargets } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndexOrEmpty } from '../support/contract-index.js';

class Recorder implements CycleObserver {
  readonly name = 'recorder';
  applied: SnapshotApplied[] = [];
  health: HealthChanged[] = [];
  shutdowns: WorkerShutdown[] = [];
  snapshotApplied(e: SnapshotApplied): Promise<void> {
    this.applied.push(e);
    return Promise.resolve();
  }
  healthChanged(e: HealthChanged): Promise<void> {
    this.health.push(e);
    return Promise.resolve();
  }
  shutdown(e: WorkerShutdown): Promise<void> {
    this.shutdowns.push(e);
    return Promise.resolve();
  }
}

const Failing: CycleObserver = {
  name: 'failing',
  snapshotApplied: () => Promise.reject(new Error('boom')),
  shutdown: () => {
    throw new Error('sync boom');
  },
};

/** Expirations and strikes of tickers, read straight off the ticker text (YYMMDD at -15, strike ×1000 in the last 8). */
function partsOf(ids: string[]): { exp: Set<string>; strikes: Set<number> } {
  const exp = new Set<string>();
  const strikes = new Set<number>();
  for (const id of ids) {
    const yymmdd = id.slice(-15, -9);
    exp.add(`20${yymmdd.slice(0, 2)}-${yymmdd.slice(2, 4)}-${yymmdd.slice(4, 6)}`);
    strikes.add(Number.parseInt(id.slice(-8), 10) / 1000);
  }
  return { exp, strikes };
}

describe.each(redisTargets())('cycle observers on $name', (target) => {
  let h: Harness | undefined;
  let worker: ChainWorker | undefined;
  afterEach(async () => {
    worker?.stop();
    await worker?.shutdown();
    worker = undefined;
    await h?.close();
    h = undefined;
  });

  it('snapshotApplied: first promotion, refresh, then a geometry promotion with what entered and left', async () => {
    h = await startHarness(target);
    const rec = new Recorder();
    const deps = { ...h.deps, observers: [Failing, rec] };

    const a = await runCycle(deps, 'I:SPX', '');
    expect(a.ok).toBe(true);
    expect(rec.applied).toHaveLength(1);
    const first = rec.applied[0] as SnapshotApplied;
    expect(first).toMatchObject({
      symbol: 'I:SPX',
      underlying: 'SPX',
      epochId: a.epochId,
      action: 'promote',
      promoted: true,
      prevEpochId: null,
      reason: 'first',
      contractCount: a.contracts,
      geometry: null,
      health: a.health,
      partial: false,
    });
    expect(first.contracts).toHaveLength(a.contracts);
    expect(first.spot).toBeGreaterThan(0);
    expect(Math.abs(first.ts - Date.now() / 1000)).toBeLessThan(30);
    const meta = await h.bus.cmd.hgetall(h.keys.epochMeta(a.epochId as string));
    expect(first.expirations).toEqual(JSON.parse(meta.expirations as string));
    // The vendor bytes are the ones stored under the contract's raw snapshot key.
    for (const c of first.contracts.slice(0, 5)) {
      const stored = await h.bus.conn.getBuffer(snapshotKeyOf(h.keys, 'SPX', c));
      expect(stored?.equals(vendorBytes(c))).toBe(true);
      expect((JSON.parse(vendorBytes(c).toString()) as { details: { ticker: string } }).details.ticker).toBe(
        c.ticker,
      );
    }

    const b = await runCycle(deps, 'I:SPX', '');
    expect(rec.applied[1]).toMatchObject({
      epochId: a.epochId,
      action: 'refresh',
      promoted: false,
      reason: null,
      prevEpochId: null,
      geometry: null,
    });
    expect(b.epochId).toBe(a.epochId);

    const before = await readIndexOrEmpty(h.bus.cmd, h.keys.epochContracts(a.epochId as string));
    (h.market as SimMarket).adjust({ contractsPerExpiration: 120 });
    const c = await runCycle(deps, 'I:SPX', '');
    expect(c.promoted).toBe(true);
    expect(c.promoteReason).toBe('geometry');
    const after = await readIndexOrEmpty(h.bus.cmd, h.keys.epochContracts(c.epochId as string));
    const p = partsOf(before);
    const n = partsOf(after);
    const want = {
      expirations: {
        entered: [...n.exp].filter((x) => !p.exp.has(x)).sort(),
        left: [...p.exp].filter((x) => !n.exp.has(x)).sort(),
      },
      strikes: {
        entered: [...n.strikes].filter((x) => !p.strikes.has(x)).sort((x, y) => x - y),
        left: [...p.strikes].filter((x) => !n.strikes.has(x)).sort((x, y) => x - y),
      },
      contracts: {
        entered: after.filter((id) => !before.includes(id)).length,
        left: before.filter((id) => !after.includes(id)).length,
      },
    };
    // Fewer contracts per expiration: the ladder narrows, strikes leave.
    expect(want.strikes.left.length).toBeGreaterThan(0);
    expect(rec.applied[2]).toMatchObject({
      epochId: c.epochId,
      action: 'promote',
      reason: 'geometry',
      prevEpochId: a.epochId,
      contractCount: after.length,
      geometry: want,
    });
  });

  it('the worker: health changes between its cycles, and a shutdown event with the reason before leases go', async () => {
    h = await startHarness(target, {
      env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.2', MASSIVE_CHAIN_SYMBOLS: 'I:SPX' },
    });
    const rec = new Recorder();
    worker = new ChainWorker({ ...h.deps, systemBus: h.bus, observers: [Failing, rec] }, { id: 'w-obs' });
    const run = worker.run();
    const deadline = Date.now() + 10_000;
    while (!worker.lastResults.get('I:SPX')?.ok && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(rec.applied.length).toBeGreaterThanOrEqual(1);
    // The API fails every page: the next cycle is `failed` (was ok or slow).
    const prevHealth = worker.lastResults.get('I:SPX')?.health;
    h.api.setFaults({ errorRate: 1 });
    while (rec.health.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(rec.health[0]).toMatchObject({ underlying: 'SPX', from: prevHealth, to: 'failed' });
    const epochId = rec.applied[0]?.epochId;
    worker.stop('signal SIGTERM');
    expect(await run).toBe(EXIT.ok);
    expect(rec.shutdowns).toEqual([
      {
        worker: 'w-obs',
        status: 'stopped',
        reason: 'signal SIGTERM',
        symbols: [{ underlying: 'SPX', epochId }],
        ts: expect.any(Number) as number,
      },
    ]);
  });
});
