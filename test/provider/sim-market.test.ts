/** @module SimMarket: greeks against an independent Black-Scholes, determinism, burst, off-hours, roots, size. */
import { describe, expect, it } from 'vitest';
import type { RawContract } from '../../src/provider/massive/types.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';

// Wednesday 2026-01-07 10:00 New York (EST, UTC-5): the nearest 5 expirations are Jan 7, 8, 9, 12, 13;
// Jan 16 is the 3rd Friday.
const NOW = Date.UTC(2026, 0, 7, 15, 0);
const clock = (): number => NOW;

// ── An independent Black-Scholes (r = q = 0), written here on purpose ──────────────────────────────────
/** erf by its Maclaurin series (used for |x| < 2, where it is accurate to ~1e-14). */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 100; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
/** erfc for x ≥ 2 by its continued fraction e^(-x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))). */
function erfcTail(x: number): number {
  let k = x;
  for (let n = 60; n >= 1; n--) k = x + n / 2 / k;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / k;
}
/** Standard normal CDF, accurate in relative terms in both tails. */
function phi(z: number): number {
  const x = z / Math.SQRT2;
  if (x <= -2) return 0.5 * erfcTail(-x);
  if (x >= 2) return 1 - 0.5 * erfcTail(x);
  return 0.5 * (1 + erfSeries(x));
}
function density(z: number): number {
  return Math.exp(-(z * z) / 2) / Math.sqrt(2 * Math.PI);
}
function referenceBs(call: boolean, s: number, k: number, t: number, v: number) {
  const d1 = (Math.log(s / k) + 0.5 * v * v * t) / (v * Math.sqrt(t));
  const d2 = d1 - v * Math.sqrt(t);
  const price = call ? s * phi(d1) - k * phi(d2) : k * phi(-d2) - s * phi(-d1);
  return {
    price,
    delta: call ? phi(d1) : -phi(-d1),
    gamma: density(d1) / (s * v * Math.sqrt(t)),
    theta: -(s * density(d1) * v) / (2 * Math.sqrt(t)) / 365,
    vega: (s * density(d1) * Math.sqrt(t)) / 100,
  };
}
/** Settlement in January (EST = UTC-5): PM roots 16:00 → 21:00Z, AM roots (SPX, NDX) 09:30 → 14:30Z. */
function yearsToJanuarySettlement(asOfMs: number, expiration: string, root: string): number {
  const [y, m, d] = expiration.split('-').map(Number) as [number, number, number];
  const am = root === 'SPX' || root === 'NDX';
  const settle = Date.UTC(y, m - 1, d, am ? 14 : 21, am ? 30 : 0);
  return (settle - asOfMs) / (365 * 86_400_000);
}
const rootOf = (ticker: string): string => /^O:([A-Z]+)\d{6}[CP]\d{8}$/.exec(ticker)?.[1] ?? '';

function nearest(m: SimMarket, n: number): RawContract[] {
  return ['I:SPX', 'I:NDX'].flatMap((u) =>
    m
      .expirations(u, NOW)
      .slice(0, n)
      .flatMap((e) => m.chain(u, NOW, e)?.results ?? []),
  );
}

describe('SimMarket', () => {
  it('lists many future expirations, with both roots on the 3rd Friday sharing strikes', () => {
    const m = new SimMarket({ clock });
    const exps = m.expirations('I:SPX', NOW);
    expect(exps.length).toBeGreaterThanOrEqual(20);
    expect(exps.slice(0, 5)).toEqual(['2026-01-07', '2026-01-08', '2026-01-09', '2026-01-12', '2026-01-13']);
    expect([...exps].sort()).toEqual(exps);
    const friday = m.chain('I:SPX', NOW, '2026-01-16')?.results ?? [];
    const tickers = friday.map((c) => c.details?.ticker ?? '');
    const strikesOf = (root: string) =>
      new Set(
        friday.filter((c) => rootOf(c.details?.ticker ?? '') === root).map((c) => c.details?.strike_price),
      );
    expect(new Set(tickers.map(rootOf))).toEqual(new Set(['SPX', 'SPXW']));
    expect(strikesOf('SPX')).toEqual(strikesOf('SPXW'));
    const ndx = m.chain('I:NDX', NOW, '2026-01-16')?.results ?? [];
    expect(new Set(ndx.map((c) => rootOf(c.details?.ticker ?? '')))).toEqual(new Set(['NDX', 'NDXP']));
    // Not a 3rd Friday: PM dailies only.
    expect(
      new Set(m.chain('I:SPX', NOW, '2026-01-09')?.results.map((c) => rootOf(c.details?.ticker ?? ''))),
    ).toEqual(new Set(['SPXW']));
  });

  it('drops the AM root of a 3rd Friday once it settled at 09:30, keeps the PM root until 16:00', () => {
    const at = (h: number, min: number) => Date.UTC(2026, 0, 16, h + 5, min);
    const m = new SimMarket({ clock });
    const roots = (now: number) =>
      new Set(m.chain('I:SPX', now, '2026-01-16')?.results.map((c) => rootOf(c.details?.ticker ?? '')));
    expect(roots(at(9, 0))).toEqual(new Set(['SPX', 'SPXW']));
    expect(roots(at(10, 0))).toEqual(new Set(['SPXW']));
    expect(m.expirations('I:SPX', at(16, 1))[0]).toBe('2026-01-20');
  });

  it('prices and greeks match an independent Black-Scholes on the served spot, iv and time', () => {
    const m = new SimMarket({ clock, seed: 11 });
    const contracts = [...nearest(m, 5), ...(m.chain('I:SPX', NOW, '2026-01-16')?.results ?? [])];
    let checked = 0;
    let withoutGreeks = 0;
    for (const c of contracts) {
      const ticker = c.details?.ticker ?? '';
      const spot = c.underlying_asset?.value as number;
      const strike = c.details?.strike_price as number;
      const call = c.details?.contract_type === 'call';
      const t = yearsToJanuarySettlement(
        (c.underlying_asset?.last_updated as number) / 1e6,
        c.details?.expiration_date ?? '',
        rootOf(ticker),
      );
      expect(t).toBeGreaterThan(0);
      const q = c.last_quote ?? {};
      expect(q.midpoint).toBeCloseTo(((q.bid ?? 0) + (q.ask ?? 0)) / 2, 9);
      for (const p of [q.bid ?? 0, q.ask ?? 0])
        expect(Math.abs(p * 20 - Math.round(p * 20))).toBeLessThan(1e-6);
      if ((q.bid ?? 0) >= 3)
        for (const p of [q.bid ?? 0, q.ask ?? 0])
          expect(Math.abs(p * 10 - Math.round(p * 10))).toBeLessThan(1e-6);
      if (c.implied_volatility === undefined) {
        // Deep in the money: the vendor sends greeks: {} and no iv.
        expect(c.greeks).toEqual({});
        expect(call ? spot - strike : strike - spot).toBeGreaterThan(0);
        withoutGreeks++;
        continue;
      }
      const ref = referenceBs(call, spot, strike, t, c.implied_volatility);
      const g = c.greeks ?? {};
      const close = (got: number | undefined, want: number) =>
        expect(Math.abs((got ?? NaN) - want), `${ticker} ${got} vs ${want}`).toBeLessThanOrEqual(
          1e-5 * Math.abs(want) + 1e-12,
        );
      close(g.delta, ref.delta);
      close(g.gamma, ref.gamma);
      close(g.theta, ref.theta);
      close(g.vega, ref.vega);
      // The quote brackets the model price.
      expect(q.bid ?? 0).toBeLessThanOrEqual(ref.price + 1e-6);
      expect(q.ask ?? 0).toBeGreaterThanOrEqual(Math.min(ref.price, 0.05) - 1e-6);
      if (ref.price >= 0.05) expect(q.ask ?? 0).toBeGreaterThanOrEqual(ref.price - 1e-6);
      checked++;
    }
    expect(checked).toBeGreaterThan(1500);
    expect(withoutGreeks).toBeGreaterThan(0);
  });

  it('has a skew (OTM puts richer than OTM calls) and realistic gaps', () => {
    const m = new SimMarket({ clock });
    const chain = m.chain('I:SPX', NOW, '2026-01-13')?.results ?? [];
    const spot = chain[0]?.underlying_asset?.value as number;
    const ivNear = (level: number, type: string): number => {
      const c = chain
        .filter((x) => x.details?.contract_type === type && x.implied_volatility !== undefined)
        .sort(
          (a, b) =>
            Math.abs((a.details?.strike_price ?? 0) - level) -
            Math.abs((b.details?.strike_price ?? 0) - level),
        )[0];
      return c?.implied_volatility ?? NaN;
    };
    expect(ivNear(spot * 0.98, 'put')).toBeGreaterThan(ivNear(spot, 'put'));
    expect(ivNear(spot, 'call')).toBeGreaterThan(ivNear(spot * 1.02, 'call'));
    const all = nearest(m, 5);
    const noTrade = all.filter((c) => !c.last_trade).length;
    expect(noTrade).toBeGreaterThan(0);
    expect(noTrade / all.length).toBeLessThan(0.25);
    expect(
      all.every((c) => c.underlying_asset?.ticker?.startsWith('I:') && c.break_even_price === undefined),
    ).toBe(true);
    // Open interest clusters on round strikes.
    const oi = (pred: (k: number) => boolean) => {
      const xs = chain.filter(
        (c) =>
          pred(c.details?.strike_price as number) &&
          Math.abs((c.details?.strike_price as number) - spot) < 100,
      );
      return xs.reduce((a, c) => a + (c.open_interest ?? 0), 0) / Math.max(1, xs.length);
    };
    expect(oi((k) => k % 50 === 0)).toBeGreaterThan(oi((k) => k % 25 !== 0));
  });

  it('is deterministic from the seed, and prices move from tick to tick', () => {
    const a = new SimMarket({ clock, seed: 42 });
    const b = new SimMarket({ clock, seed: 42 });
    const c = new SimMarket({ clock, seed: 43 });
    const json = (m: SimMarket, now = NOW) => JSON.stringify(m.chain('I:SPX', now, '2026-01-08'));
    expect(json(a)).toBe(json(b));
    expect(json(a)).not.toBe(json(c));
    // Same tick → same state; next tick → moved spot, new generation.
    expect(a.generation(NOW + 1000)).toBe(a.generation(NOW));
    expect(a.generation(NOW + 5000)).not.toBe(a.generation(NOW));
    expect(a.indexValue('I:SPX', NOW + 5000)).not.toBe(a.indexValue('I:SPX', NOW));
    expect(a.indexValue('I:SPX', NOW)).toBeGreaterThan(6500);
    expect(a.indexValue('I:SPX', NOW)).toBeLessThan(7200);
    expect(a.indexValue('I:NDX', NOW)).toBeGreaterThan(23500);
    expect(a.indexValue('I:NDX', NOW)).toBeLessThan(26500);
    expect(a.indexValue('I:XYZ', NOW)).toBeNull();
    expect(a.chain('I:XYZ', NOW)).toBeNull();
  });

  it('serves a normal chain of ~2,000 contracts at under 700 bytes of JSON each', () => {
    const m = new SimMarket({ clock });
    const all = nearest(m, 5);
    expect(all.length).toBe(2000);
    const avg = all.reduce((n, c) => n + JSON.stringify(c).length, 0) / all.length;
    console.info(`average compact JSON per contract (normal, 2 × 5 expirations): ${avg.toFixed(1)} bytes`);
    expect(avg).toBeLessThan(700);
    expect(avg).toBeGreaterThan(450);
  });

  it('burst mode gives 20,000 contracts over the nearest 5 expirations of I:SPX + I:NDX, fast', () => {
    const m = new SimMarket({ clock, burst: true });
    const started = performance.now();
    const all = nearest(m, 5);
    const ms = performance.now() - started;
    const avg = all.reduce((n, c) => n + JSON.stringify(c).length, 0) / all.length;
    console.info(
      `burst: ${all.length} contracts generated in ${ms.toFixed(1)} ms, ${avg.toFixed(1)} bytes each`,
    );
    expect(all.length).toBe(20_000);
    expect(new Set(all.map((c) => c.details?.ticker)).size).toBe(20_000);
    expect(avg).toBeLessThan(700);
    expect(ms).toBeLessThan(1500); // typically ~100 ms; generous for slow CI machines
    // Cached: a second read is free.
    const again = performance.now();
    nearest(m, 5);
    expect(performance.now() - again).toBeLessThan(50);
    // Beyond the nearest 5, expirations keep the normal size.
    expect(m.chain('I:SPX', NOW, m.expirations('I:SPX', NOW)[5])?.results.length).toBe(200);
  });

  it('off-hours: empty lists nothing, thin lists 1–2 small expirations; configure() switches at runtime', () => {
    const m = new SimMarket({ clock, offHours: 'empty' });
    expect(m.expirations('I:SPX', NOW)).toEqual([]);
    expect(m.chain('I:SPX', NOW)?.results).toEqual([]);
    expect(m.indexValue('I:SPX', NOW)).toBeGreaterThan(0);
    const before = m.generation(NOW);
    m.configure({ offHours: 'thin' });
    expect(m.generation(NOW)).not.toBe(before);
    for (const u of ['I:SPX', 'I:NDX']) {
      const exps = m.expirations(u, NOW);
      expect(exps.length).toBeGreaterThanOrEqual(1);
      expect(exps.length).toBeLessThanOrEqual(2);
      for (const e of exps) expect(m.chain(u, NOW, e)?.results.length).toBeLessThanOrEqual(40);
    }
    m.configure({ offHours: 'normal', contractsPerExpiration: 50 });
    expect(m.chain('I:SPX', NOW, '2026-01-08')?.results.length).toBe(50);
    expect(() => m.adjust({ burst: 'yes' })).toThrow();
    expect(() => m.adjust({ nope: 1 })).toThrow();
    expect(m.adjust({ burst: true })).toMatchObject({ burst: true, contractsPerExpiration: 50 });
  });
});
