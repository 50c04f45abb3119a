/**
 * The compat thread's byte pool: buffers handed back are reused best fit, within bounds; and through the real
 * thread, a build written into handed-back buffers is byte for byte a build from fresh memory, while the
 * main thread's copies are detached (they no longer count against its heap).
 */
import { describe, expect, it } from 'vitest';
import { BENCH_WIDTHS, simSubstrates } from '../../bench/sim-chain.js';
import { substrateColumns } from '../../src/models/substrate-columns.js';
import { BytePool } from '../../src/outputs/marketswarm/byte-pool.js';
import {
  buildMarketSwarmFromColumns,
  compatBuffers,
  resetCompatState,
  type CompatResponse,
} from '../../src/outputs/marketswarm/build.js';
import { CompatThread } from '../../src/outputs/marketswarm/compat-thread.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';

describe('BytePool', () => {
  const cases: { name: string; pooled: number[]; size: number; capacity: number; left: number[] }[] = [
    {
      name: 'empty pool: new memory, an eighth to spare',
      pooled: [],
      size: 80_000,
      capacity: 90_000,
      left: [],
    },
    {
      name: 'the smallest that fits',
      pooled: [500_000, 120_000, 90_000],
      size: 80_000,
      capacity: 90_000,
      left: [500_000, 120_000],
    },
    { name: 'an exact fit', pooled: [80_000], size: 80_000, capacity: 80_000, left: [] },
    {
      name: 'none big enough',
      pooled: [79_999, 70_000],
      size: 80_000,
      capacity: 90_000,
      left: [79_999, 70_000],
    },
    {
      name: 'more than twice the size (+4 KiB) is kept for a bigger take',
      pooled: [164_097],
      size: 80_000,
      capacity: 90_000,
      left: [164_097],
    },
    {
      name: 'twice the size + 4 KiB still fits',
      pooled: [164_096],
      size: 80_000,
      capacity: 164_096,
      left: [],
    },
    {
      name: 'buffers under 64 KiB are not kept',
      pooled: [65_535, 30_000],
      size: 20_000,
      capacity: 22_500,
      left: [],
    },
  ];
  it.each(cases)('$name', ({ pooled, size, capacity, left }) => {
    const pool = new BytePool();
    pool.give(pooled.map((n) => new ArrayBuffer(n)));
    const got = pool.take(size);
    expect(got.byteLength).toBe(size);
    expect(got.byteOffset).toBe(0);
    expect(got.buffer.byteLength).toBe(capacity);
    expect(pool.held).toEqual({ buffers: left.length, bytes: left.reduce((a, b) => a + b, 0) });
  });

  it('keeps at most its buffers and bytes; skips detached buffers and repeats', () => {
    const pool = new BytePool(2, 10_000, 0);
    const a = new ArrayBuffer(4_000);
    pool.give([
      a,
      a,
      new ArrayBuffer(0),
      new ArrayBuffer(7_000),
      new ArrayBuffer(5_000),
      new ArrayBuffer(1_000),
    ]);
    expect(pool.held).toEqual({ buffers: 2, bytes: 9_000 });
  });
});

describe('the compat thread writes into the buffers the main thread hands back', () => {
  it('the same bytes as builds from fresh memory; handed-back buffers are detached here and reused there', async () => {
    const t0 = Date.UTC(2026, 0, 7, 15, 0);
    const requests = [t0, t0 + 8_000].map((t, i) => {
      const { contracts, spot } = simSubstrates(new SimMarket({ clock: () => t, burst: true }), 'SPX', t);
      return {
        symbol: 'I:SPX',
        versionBase: 100 + i * 50,
        maxDiffBytes: 200_000,
        asOfMs: t,
        spot,
        widths: BENCH_WIDTHS.SPX ?? [5],
        windowPct: 5,
        tsSec: t / 1000,
        columns: substrateColumns(contracts),
      };
    });
    const bytes = (r: CompatResponse): string[] =>
      [r.gexCalls, r.gexPuts, r.heatmap, ...r.diffs].map((u) => (u ? Buffer.from(u).toString('base64') : ''));
    resetCompatState();
    const fresh = requests.map((req) => bytes(buildMarketSwarmFromColumns(req)));
    resetCompatState();

    const thread = new CompatThread();
    try {
      const first = await thread.build(requests[0]!);
      expect(bytes(first)).toEqual(fresh[0]);
      const capacities = compatBuffers(first).map((b) => b.byteLength);
      expect(first.diffs.length).toBeGreaterThan(1);
      thread.recycle(compatBuffers(first));
      expect(compatBuffers(first).map((b) => b.byteLength)).toEqual(capacities.map(() => 0));
      const second = await thread.build(requests[1]!);
      expect(bytes(second)).toEqual(fresh[1]);
      // The heatmap document and the diffs were written into buffers of the first build.
      for (const u of [second.heatmap!, ...second.diffs]) expect(capacities).toContain(u.buffer.byteLength);
    } finally {
      await thread.close();
    }
  }, 60_000);
});
