import { describe, expect, it } from 'vitest';
import { impliedVol, MAX_VOL } from '../../src/live/implied-vol.js';

// ── An independent Black-Scholes (r = q = 0), written for this test ─────────────────────────────────
// Φ(x) through erfc: a Taylor series of erf near 0 and Lentz's continued fraction of erfc in the tails.
function erfSeries(z: number): number {
  let term = z;
  let sum = z;
  for (let n = 1; n < 200; n++) {
    term *= (-z * z) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
function erfcFraction(z: number): number {
  // erfc(z) = exp(-z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + …)))) for z > 0 (modified Lentz).
  const tiny = 1e-300;
  let f = z;
  let c = z;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = z + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = z + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}
function phi(x: number): number {
  const z = x / Math.SQRT2;
  if (Math.abs(z) < 2) return 0.5 * (1 + erfSeries(z));
  return z > 0 ? 1 - 0.5 * erfcFraction(z) : 0.5 * erfcFraction(-z);
}
function refPrice(side: 'C' | 'P', s: number, k: number, t: number, vol: number): number {
  const vt = vol * Math.sqrt(t);
  const d1 = Math.log(s / k) / vt + vt / 2;
  const d2 = d1 - vt;
  return side === 'C' ? s * phi(d1) - k * phi(d2) : k * phi(-d2) - s * phi(-d1);
}

const MINUTE = 1 / (365 * 24 * 60);
const DAY = 1 / 365;

describe('impliedVol: round trip against an independent Black-Scholes', () => {
  const spot = 6850;
  const expiries: [string, number][] = [
    ['0DTE, 5 minutes before settlement', 5 * MINUTE],
    ['0DTE, 30 minutes', 30 * MINUTE],
    ['0DTE, 6 hours', 6 * 60 * MINUTE],
    ['1 day', DAY],
    ['1 week', 7 * DAY],
    ['1 month', 30 * DAY],
    ['1 year', 365 * DAY],
  ];
  const vols = [0.08, 0.16, 0.35, 0.9, 2.5];
  // Moneyness in standard deviations: deep ITM/OTM is ±4.5 sd (the wings a chain lists).
  const sds = [-4.5, -3, -1.5, -0.5, 0, 0.3, 1, 2, 3, 4.5];
  const cases: { name: string; side: 'C' | 'P'; k: number; t: number; vol: number }[] = [];
  for (const [label, t] of expiries)
    for (const vol of vols)
      for (const sd of sds)
        for (const side of ['C', 'P'] as const) {
          const k = Math.round(spot * Math.exp(sd * vol * Math.sqrt(t)) * 100) / 100;
          cases.push({ name: `${label} vol ${vol} ${side} K=${k} (${sd} sd)`, side, k, t, vol });
        }

  it(`recovers the vol to 1e-6 over ${cases.length} strikes × expiries × vols`, () => {
    const failures: string[] = [];
    let checked = 0;
    for (const c of cases) {
      const price = refPrice(c.side, spot, c.k, c.t, c.vol);
      const intrinsic = c.side === 'C' ? Math.max(0, spot - c.k) : Math.max(0, c.k - spot);
      // A time value below 1e-9 of spot is beneath what double-precision prices can tell apart.
      if (price - intrinsic < 1e-9 * spot) continue;
      checked++;
      const r = impliedVol({ side: c.side, spot, strike: c.k, t: c.t, price });
      if (!r.ok || Math.abs(r.iv - c.vol) > 1e-6) failures.push(`${c.name}: ${JSON.stringify(r)}`);
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(cases.length * 0.9);
  });

  it('deep ITM and deep OTM both solve (parity keeps the intrinsic value out of the way)', () => {
    const t = 30 * DAY;
    for (const [side, k] of [
      ['C', 6000],
      ['P', 7700],
      ['C', 7700],
      ['P', 6000],
    ] as const) {
      const price = refPrice(side, spot, k, t, 0.25);
      const r = impliedVol({ side, spot, strike: k, t, price });
      expect(r.ok && Math.abs(r.iv - 0.25)).toBeLessThan(1e-6);
    }
  });
});

describe('impliedVol: no solution', () => {
  const base = { spot: 6850, t: 7 * DAY };
  it.each([
    [
      'below intrinsic (call)',
      { ...base, side: 'C' as const, strike: 6800, price: 49.99 },
      'below_intrinsic',
    ],
    ['at intrinsic (put)', { ...base, side: 'P' as const, strike: 6900, price: 50 }, 'below_intrinsic'],
    ['zero price', { ...base, side: 'C' as const, strike: 7000, price: 0 }, 'below_intrinsic'],
    ['negative price', { ...base, side: 'P' as const, strike: 6000, price: -1 }, 'below_intrinsic'],
    ['call at or above spot', { ...base, side: 'C' as const, strike: 6800, price: 6850 }, 'above_max'],
    ['put at or above strike', { ...base, side: 'P' as const, strike: 6900, price: 6900 }, 'above_max'],
    ['needs more than MAX_VOL', { ...base, side: 'C' as const, strike: 6850, price: 4000 }, 'above_max'],
    ['below the minimum vol', { ...base, side: 'C' as const, strike: 6850, price: 1e-6 }, 'below_min'],
    ['expired', { ...base, t: 0, side: 'C' as const, strike: 6850, price: 1 }, 'expired'],
    ['NaN price', { ...base, side: 'C' as const, strike: 6850, price: Number.NaN }, 'bad_input'],
    ['zero spot', { ...base, spot: 0, side: 'C' as const, strike: 6850, price: 1 }, 'bad_input'],
  ])('%s', (_name, input, reason) => {
    expect(impliedVol(input)).toEqual({ ok: false, reason });
  });

  it('a price just under the MAX_VOL price still solves', () => {
    const price = refPrice('C', 6850, 6850, 7 * DAY, MAX_VOL * 0.99);
    const r = impliedVol({ side: 'C', spot: 6850, strike: 6850, t: 7 * DAY, price });
    expect(r.ok && Math.abs(r.iv - MAX_VOL * 0.99)).toBeLessThan(1e-6);
  });
});
