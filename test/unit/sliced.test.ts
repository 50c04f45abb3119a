/**
 * The normalize phase in slices gives exactly what the one-piece functions give: the same records,
 * and rejections as normalizeSnapshot, the same geometry (hash included) as geometryOf,
 * for chains of every size around the slice boundaries; and it yields to the event loop between slices.
 */
import { describe, expect, it } from 'vitest';
import { geometryOf } from '../../src/chain-worker/geometry.js';
import { geometrySliced, normalizeSliced } from '../../src/chain-worker/sliced.js';
import { normalizeSnapshot } from '../../src/normalizers/registry.js';
import type { ParsedContract } from '../../src/provider/massive/types.js';

function chain(n: number): ParsedContract[] {
  const out: ParsedContract[] = [];
  for (let i = 0; i < n; i++) {
    const strike = 4000 + (i % 400) * 5;
    const exp = 7 + Math.floor(i / 800);
    const type = i % 2 === 0 ? 'C' : 'P';
    out.push({
      ticker: `O:SPXW2601${String(exp).padStart(2, '0')}${type}${String(strike * 1000).padStart(8, '0')}`,
      root: 'SPXW',
      expiration: `2026-01-${String(exp).padStart(2, '0')}`,
      type,
      strike,
      fields: {
        bid: i % 11 === 0 ? -1 : 1 + (i % 7), // some negative prices: rejected
        ask: 2 + (i % 7),
        midpoint: undefined,
        last: undefined,
        delta: i % 13 === 0 ? 'x' : 0.5, // some non-numbers: rejected
        gamma: i % 3 === 0 ? undefined : 0.01, // unusable for GEX, still written
        theta: undefined,
        vega: undefined,
        iv: 0.2,
        oi: i % 5 === 0 ? null : i,
        volume: undefined,
        ts: null,
      },
    });
  }
  // The fetch order: pages of different expirations interleaved.
  return out.reverse();
}

const ctx = { underlying: 'SPX', asOf: Date.parse('2026-01-07T15:00:00Z') };

describe('normalize phase in slices', () => {
  it.each([0, 1, 999, 1_000, 1_001, 2_500, 5_000])(
    '%i contracts: normalizeSnapshot, slice by slice',
    async (n) => {
      const contracts = chain(n);
      expect(await normalizeSliced(contracts, ctx, 1_000)).toEqual(normalizeSnapshot(contracts, ctx));
      expect(await normalizeSliced(contracts, ctx, 7)).toEqual(normalizeSnapshot(contracts, ctx));
    },
  );

  it.each([0, 1, 999, 1_000, 1_001, 5_000])('%i contracts: geometryOf, slice by slice', async (n) => {
    const contracts = chain(n);
    expect(await geometrySliced(contracts, 1_000)).toEqual(geometryOf(contracts));
    expect(await geometrySliced(contracts, 3)).toEqual(geometryOf(contracts));
  });

  it('keeps the geometry hash of an id list as it was (a stored hash must not change)', async () => {
    const g = await geometrySliced([
      { ticker: 'O:SPX260107P06850000', strike: 6850, expiration: '2026-01-07' },
      { ticker: 'O:SPX260107C06850000', strike: 6850, expiration: '2026-01-07' },
    ]);
    // sha1("O:SPX260107C06850000\nO:SPX260107P06850000\n"), first 16 hex digits
    expect(g.hash).toBe(
      geometryOf([
        { ticker: 'O:SPX260107C06850000', strike: 6850, expiration: '2026-01-07' },
        { ticker: 'O:SPX260107P06850000', strike: 6850, expiration: '2026-01-07' },
      ]).hash,
    );
    expect(g.ids).toEqual(['O:SPX260107C06850000', 'O:SPX260107P06850000']);
  });

  it('gives the event loop a turn between slices', async () => {
    const contracts = chain(5_000);
    // Another callback re-queued on every turn: it runs once between each two slices.
    let immediates = 0;
    const tick = (): void => {
      immediates++;
      if (!done) setImmediate(tick);
    };
    let done = false;
    setImmediate(tick);
    await normalizeSliced(contracts, ctx, 500);
    await geometrySliced(contracts, 500);
    done = true;
    // 10 slices of each, plus the sort and the hash: the other callback ran between them.
    expect(immediates).toBeGreaterThanOrEqual(9 + 11);
  });
});
