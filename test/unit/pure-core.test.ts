import { describe, expect, it } from 'vitest';
import { isBurst, nextCycleDelayMs } from '../../src/chain-worker/cadence.js';
import { decideEpoch } from '../../src/chain-worker/epoch-decision.js';
import { geometryOf, newEpochId } from '../../src/chain-worker/geometry.js';
import { classifyHealth } from '../../src/chain-worker/health.js';
import { normalizeContract } from '../../src/normalizers/contract-normalizer.js';
import { normalizeSnapshot } from '../../src/normalizers/registry.js';
import type { ParsedContract } from '../../src/provider/massive/types.js';
import { parseContract } from '../../src/provider/massive/parse-contract.js';

describe('decideEpoch', () => {
  const view = { id: 'SPX:1:a', geometryHash: 'h1', status: 'active' };
  it.each([
    [
      'no active epoch',
      null,
      null,
      'h1',
      { action: 'promote', prevEpochId: null, forced: false, reason: 'first' },
    ],
    ['same geometry', view, 'SPX:1:a', 'h1', { action: 'refresh', epochId: 'SPX:1:a' }],
    [
      'new geometry',
      view,
      'SPX:1:a',
      'h2',
      { action: 'promote', prevEpochId: 'SPX:1:a', forced: false, reason: 'geometry' },
    ],
    [
      'dormant, same geometry',
      { ...view, status: 'dormant' },
      'SPX:1:a',
      'h1',
      { action: 'promote', prevEpochId: 'SPX:1:a', forced: true, reason: 'recovery' },
    ],
    [
      'meta missing',
      null,
      'SPX:1:a',
      'h1',
      { action: 'promote', prevEpochId: 'SPX:1:a', forced: false, reason: 'meta_missing' },
    ],
  ] as const)('%s', (_name, v, id, hash, expected) => {
    expect(decideEpoch(v, id, hash)).toEqual(expected);
  });

  // A partial snapshot never promotes over an active epoch it can merge into.
  it.each([
    ['partial, no active epoch', null, null, {}, { action: 'promote', reason: 'first' }],
    ['partial, meta missing', null, 'SPX:1:a', {}, { action: 'promote', reason: 'meta_missing' }],
    ['partial, other geometry', view, 'SPX:1:a', {}, { action: 'merge', epochId: 'SPX:1:a', dormant: false }],
    [
      'partial, dormant',
      { ...view, status: 'dormant' },
      'SPX:1:a',
      {},
      { action: 'merge', epochId: 'SPX:1:a', dormant: true },
    ],
    [
      'partial, index expired',
      view,
      'SPX:1:a',
      { activeIndex: false },
      { action: 'promote', prevEpochId: 'SPX:1:a', reason: 'index_missing' },
    ],
  ] as const)('%s', (_name, v, id, facts, expected) => {
    expect(decideEpoch(v, id, 'h2', { partial: true, activeIndex: true, ...facts })).toMatchObject(expected);
  });
});

describe('classifyHealth (precedence failed > empty > partial > stale > slow > ok)', () => {
  const t = { slowFetchMs: 5000, staleAfterSec: 120 };
  const base = { failed: false, contractCount: 100, partial: false, stalenessSec: 1, latencyMs: 100 };
  it.each([
    [{}, 'ok'],
    [{ latencyMs: 6000 }, 'slow'],
    [{ stalenessSec: 500, latencyMs: 6000 }, 'stale'],
    [{ partial: true, stalenessSec: 500 }, 'partial'],
    [{ contractCount: 0, partial: true }, 'empty'],
    [{ failed: true, contractCount: 0 }, 'failed'],
    [{ stalenessSec: null }, 'ok'],
  ])('%j → %s', (over, cat) => expect(classifyHealth({ ...base, ...over }, t)).toBe(cat));
});

describe('nextCycleDelayMs', () => {
  it.each([
    [{ intervalMs: 30_000, cycleMs: 500, burst: false, burstFactor: 2 }, 30_000],
    [{ intervalMs: 30_000, cycleMs: 500, burst: true, burstFactor: 2 }, 60_000],
    [{ intervalMs: 30_000, cycleMs: 20_000, burst: false, burstFactor: 2 }, 40_000],
    [{ intervalMs: 30_000, cycleMs: 200_000, burst: false, burstFactor: 2 }, 240_000],
    [{ intervalMs: 1_000, cycleMs: 400, burst: false, burstFactor: 2 }, 1_000],
  ])('%j → %d', (i, d) => expect(nextCycleDelayMs(i)).toBe(d));
});

// A fetch capped at CHAIN_BURST_MAX_EXPIRATIONS stands for the whole chain: its contracts per expiration
// over every listed expiration decide whether the burst lasts (else the cap ends the burst it was for).
describe('isBurst', () => {
  it.each([
    [{ contracts: 10_000, fetched: 5, listed: 5, threshold: 10_000 }, true],
    [{ contracts: 9_999, fetched: 5, listed: 5, threshold: 10_000 }, false],
    [{ contracts: 6_000, fetched: 3, listed: 5, threshold: 10_000 }, true],
    [{ contracts: 5_000, fetched: 3, listed: 5, threshold: 10_000 }, false],
    [{ contracts: 0, fetched: 0, listed: 0, threshold: 1 }, false],
    [{ contracts: 12_000, fetched: 3, listed: undefined, threshold: 10_000 }, true],
    [{ contracts: 6_000, fetched: 3, listed: undefined, threshold: 10_000 }, false],
  ])('%j → %s', (i, expected) => expect(isBurst(i)).toBe(expected));
});

describe('geometry', () => {
  const c = (ticker: string, strike: number, expiration: string) => ({ ticker, strike, expiration });
  it('hash ignores order and counts strikes and expirations', () => {
    const a = geometryOf([
      c('O:X1', 100, '2026-01-01'),
      c('O:X2', 105, '2026-01-01'),
      c('O:X3', 105, '2026-01-02'),
    ]);
    const b = geometryOf([
      c('O:X3', 105, '2026-01-02'),
      c('O:X1', 100, '2026-01-01'),
      c('O:X2', 105, '2026-01-01'),
    ]);
    expect(a.hash).toBe(b.hash);
    expect(a).toMatchObject({ strikeCount: 2, expirationCount: 2, minStrike: 100, maxStrike: 105 });
    expect(geometryOf([c('O:X1', 100, '2026-01-01')]).hash).not.toBe(a.hash);
  });
  it('empty geometry is valid', () => {
    expect(geometryOf([])).toMatchObject({ ids: [], strikeCount: 0, expirationCount: 0, minStrike: null });
  });
  it('epoch ids have the seed form and are unique within a second', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newEpochId('SPX', 1_700_000_000_123)));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^SPX:1700000000:[0-9a-z]{6}$/);
  });
});

describe('normalizeSnapshot', () => {
  it('writes what the normalizer accepts and counts each rejection by reason, nothing else', () => {
    const contract = (ticker: string, raw: object): ParsedContract => {
      const res = parseContract({ details: { ticker }, ...raw });
      if (!res.ok) throw new Error(res.reason);
      return res.contract;
    };
    const out = normalizeSnapshot(
      [
        contract('O:SPXW260107C06850000', { greeks: { gamma: 0.002 }, open_interest: 10 }),
        contract('O:SPXW260107P06850000', {}), // no greeks, no OI: written (the models count what they lack)
        contract('O:SPXW260107C06900000', { greeks: { gamma: 1e10 } }),
        contract('O:SPXW260107C06950000', { greeks: { delta: 3 } }),
        contract('O:SPXW260107C07000000', { day: { volume: 1e12 } }),
      ],
      { underlying: 'SPX', asOf: 1_700_000_000_000 },
    );
    expect(out.records.map((r) => r.id)).toEqual(['O:SPXW260107C06850000', 'O:SPXW260107P06850000']);
    expect(out.rejected).toEqual({ absurd_greek: 2, absurd_volume: 1 });
    expect(out.rejectedCount).toBe(3);
    expect(Object.keys(out).sort()).toEqual(['records', 'rejected', 'rejectedCount']);
  });
});

describe('normalizeContract', () => {
  const parsed = (raw: object): ParsedContract => {
    const res = parseContract({ details: { ticker: 'O:SPXW260107C06850000' }, ...raw });
    if (!res.ok) throw new Error(res.reason);
    return res.contract;
  };
  const ctx = { underlying: 'SPX', asOf: 1_700_000_000_000 };
  it('maps the vendor fields and prefers last_quote.midpoint', () => {
    const r = normalizeContract(
      parsed({
        last_quote: { bid: 10, ask: 10.4, midpoint: 10.2 },
        last_trade: { price: 10.1 },
        greeks: { delta: 0.5, gamma: 0.002, theta: -1.5, vega: 3.2 },
        implied_volatility: 0.15,
        open_interest: 1234,
      }),
      ctx,
    );
    expect(r).toEqual({
      ok: true,
      record: {
        id: 'O:SPXW260107C06850000',
        underlying: 'SPX',
        root: 'SPXW',
        expiration: '2026-01-07',
        strike: 6850,
        type: 'call',
        bid: 10,
        ask: 10.4,
        mid: 10.2,
        last: 10.1,
        delta: 0.5,
        gamma: 0.002,
        theta: -1.5,
        vega: 3.2,
        iv: 0.15,
        oi: 1234,
        volume: null,
        ts: 1_700_000_000, // Unix seconds
      },
    });
  });
  it.each([
    ['O:SPXW260107C06850000', 'call'],
    ['O:SPXW260107P06850000', 'put'],
    ['O:SPX260116P04500000', 'put'],
  ])('spells the substrate type of %s as %s', (ticker, type) => {
    const res = parseContract({ details: { ticker } });
    if (!res.ok) throw new Error(res.reason);
    const r = normalizeContract(res.contract, ctx);
    expect(r.ok && r.record.type).toBe(type);
    // The parsed contract (and so the raw snapshot key) keeps the ticker's letter.
    expect(res.contract.type).toBe(ticker.includes('C0') ? 'C' : 'P');
  });
  it.each([
    [{ day: { volume: 1234 } }, 1234],
    [{ day: { volume: 0 } }, 0],
    [{ day: {} }, null],
    [{}, null],
  ])('lifts day.volume from %j as %s', (raw, volume) => {
    const r = normalizeContract(parsed(raw), ctx);
    expect(r.ok && r.record.volume).toBe(volume);
  });
  it.each([
    [{ greeks: { gamma: 14, vega: 6000, theta: -60_000, delta: 1 } }],
    [{ last_quote: { bid: 999_999, ask: 1_000_000 } }],
  ])('accepts values at the edge of the bounds: %j', (raw) => {
    expect(normalizeContract(parsed(raw), ctx).ok).toBe(true);
  });
  it('falls back to (bid + ask) / 2, and leaves mid null without a two-sided quote', () => {
    const a = normalizeContract(parsed({ last_quote: { bid: 1, ask: 2 } }), ctx);
    expect(a.ok && a.record.mid).toBe(1.5);
    const b = normalizeContract(parsed({ last_quote: { bid: 0, ask: 2 } }), ctx);
    expect(b.ok && b.record.mid).toBeNull();
    const c = normalizeContract(parsed({ greeks: {} }), ctx);
    expect(c.ok && [c.record.mid, c.record.gamma, c.record.iv, c.record.oi]).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
  it.each([
    [{ greeks: { gamma: 'x' } }, 'bad_number'],
    [{ implied_volatility: Number.NaN }, 'bad_number'],
    [{ last_quote: { bid: -1, ask: 2 } }, 'negative_price'],
    [{ open_interest: 5_000_000_000 }, 'absurd_oi'],
    [{ open_interest: -3 }, 'absurd_oi'],
    [{ greeks: { delta: 3 } }, 'absurd_greek'],
    [{ greeks: { gamma: -0.1 } }, 'absurd_greek'],
    [{ last_quote: { bid: 3, ask: 2 } }, 'crossed_quote'],
    // Physical bounds (src/normalizers/bounds.ts): strike 6850.
    [{ greeks: { gamma: 1e10 } }, 'absurd_greek'],
    [{ greeks: { gamma: 15 } }, 'absurd_greek'], // gamma × strike ≈ 1.03e5 > 1e5
    [{ greeks: { vega: 7000 } }, 'absurd_greek'],
    [{ greeks: { theta: -70_000 } }, 'absurd_greek'],
    [{ implied_volatility: 21 }, 'absurd_greek'],
    [{ last_quote: { bid: 2, ask: 2e6 } }, 'absurd_price'],
    [{ last_trade: { price: 1e300 } }, 'absurd_price'],
    [{ day: { volume: 1e9 } }, 'absurd_volume'],
    [{ day: { volume: 2.5 } }, 'absurd_volume'],
    [{ day: { volume: -1 } }, 'absurd_volume'],
    [{ day: { volume: 'x' } }, 'bad_number'],
  ])('rejects %j as %s', (raw, reason) =>
    expect(normalizeContract(parsed(raw), ctx)).toEqual({ ok: false, reason }),
  );
});
