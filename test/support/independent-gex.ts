/**
 * @module Independent Black-Scholes (r = q = 0) and the README's GEX conventions computed from scratch, for
 * the live tests' expected levels (shares nothing with src/).
 */
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';

// ── independent Black-Scholes (r = q = 0) for the expected levels ──────────────────────────────────────
export function phi(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for 1e-6; use the erfc continued fraction / series pair.
  const z = Math.abs(x) / Math.SQRT2;
  let erfc: number;
  if (z < 2) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    erfc = 1 - (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let f = 0;
    for (let n = 60; n >= 1; n--) f = n / 2 / (z + f);
    erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
  }
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}
export const pdf = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
export function price(call: boolean, s: number, k: number, t: number, v: number): number {
  const vt = v * Math.sqrt(t);
  const d1 = Math.log(s / k) / vt + vt / 2;
  return call ? s * phi(d1) - k * phi(d1 - vt) : k * phi(vt - d1) - s * phi(-d1);
}
export function gamma(s: number, k: number, t: number, v: number): number {
  const vt = v * Math.sqrt(t);
  return pdf(Math.log(s / k) / vt + vt / 2) / (s * vt);
}
/** Settlement in January (EST, UTC−5): PM roots 16:00 = 21:00 UTC, AM roots 09:30 = 14:30 UTC. */
export function years(nowMs: number, c: ContractSubstrate): number {
  const am = ['SPX', 'NDX'].includes(c.root);
  return (Date.parse(`${c.expiration}T${am ? '14:30' : '21:00'}:00Z`) - nowMs) / (365 * 86_400_000);
}

export interface Expected {
  net: number;
  callWall: number;
  putWall: number;
  absGamma: number;
  zeroGamma: number | null;
}

/** The GEX conventions of the README, computed from scratch. */
export function expectedGex(
  contracts: ContractSubstrate[],
  spot: number,
  nowMs: number,
  ivOf: (c: ContractSubstrate) => number | null,
  weightOf: (c: ContractSubstrate) => number | null = (c) => c.oi,
): Expected {
  const rows = new Map<number, { call: number; put: number }>();
  const live: { k: number; sign: number; t: number; iv: number; oi: number }[] = [];
  let net = 0;
  for (const c of contracts) {
    const t = years(nowMs, c);
    const iv = ivOf(c);
    const w = weightOf(c);
    if (!(t > 0) || iv === null || w === null || c.gamma === null) continue;
    const sign = c.type === 'call' ? 1 : -1;
    const g = sign * gamma(spot, c.strike, t, iv) * w * 100 * spot * spot * 0.01;
    net += g;
    const row = rows.get(c.strike) ?? { call: 0, put: 0 };
    if (sign > 0) row.call += g;
    else row.put += g;
    rows.set(c.strike, row);
    live.push({ k: c.strike, sign, t, iv, oi: w });
  }
  const best = (score: (r: { call: number; put: number }) => number): number => {
    let out = 0;
    let top = -Infinity;
    for (const [k, r] of [...rows].sort(
      (a, b) => Math.abs(a[0] - spot) - Math.abs(b[0] - spot) || a[0] - b[0],
    )) {
      const v = Math.round(score(r) * 100);
      if (v > top) {
        top = v;
        out = k;
      }
    }
    return out;
  };
  const netAt = (l: number): number =>
    live.reduce((a, x) => a + x.sign * gamma(l, x.k, x.t, x.iv) * x.oi * 100 * l * l * 0.01, 0);
  // Roots of the profile on a 0.5-point grid over [0.8 S, 1.2 S], refined by bisection; the one nearest spot.
  let zero: number | null = null;
  let prevL = spot * 0.8;
  let prevV = netAt(prevL);
  for (let l = prevL + 0.5; l <= spot * 1.2; l += 0.5) {
    const v = netAt(l);
    if (Math.sign(v) !== Math.sign(prevV) && v !== 0) {
      let a = prevL;
      let b = l;
      for (let i = 0; i < 60; i++) {
        const m = (a + b) / 2;
        if (Math.sign(netAt(m)) === Math.sign(netAt(a))) a = m;
        else b = m;
      }
      const root = (a + b) / 2;
      if (zero === null || Math.abs(root - spot) < Math.abs(zero - spot)) zero = root;
    }
    prevL = l;
    prevV = v;
  }
  return {
    net,
    callWall: best((r) => r.call),
    putWall: best((r) => -r.put),
    absGamma: best((r) => r.call - r.put),
    zeroGamma: zero,
  };
}
