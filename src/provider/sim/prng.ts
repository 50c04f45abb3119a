/** @module Tiny deterministic randomness for the simulated market: mulberry32 plus 32-bit hashing. */

const TWO_32 = 4294967296;

/** A seeded generator of uniforms in [0, 1) (mulberry32: tiny, fast, good enough for simulation). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / TWO_32;
  };
}

/** MurmurHash3's 32-bit finaliser: spreads every input bit over the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds a non-negative number (integers up to 2^53) into a running hash. */
export function mixNumber(h: number, x: number): number {
  const lo = (x % TWO_32) >>> 0;
  const hi = Math.floor(x / TWO_32) >>> 0;
  h = fmix32((h ^ lo) + 0x9e3779b9);
  return fmix32((h ^ hi) + 0x7f4a7c15);
}

/** Folds a string into a running hash (FNV-1a over UTF-16 units, then finalised). */
export function mixString(h: number, s: string): number {
  let x = (h ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < s.length; i++) {
    x ^= s.charCodeAt(i);
    x = Math.imul(x, 0x01000193);
  }
  return fmix32(x);
}

/** Hash of a list of numbers and strings, e.g. `hashOf(seed, 'I:SPX', tick)`. */
export function hashOf(...parts: Array<number | string>): number {
  let h = 0x2545f491;
  for (const p of parts) h = typeof p === 'number' ? mixNumber(h, p) : mixString(h, p);
  return h;
}

/** A uniform in [0, 1) from a hash. */
export function unitOf(h: number): number {
  return h / TWO_32;
}

/** A standard normal draw from a hash (Box-Muller over two derived uniforms). */
export function gaussianOf(h: number): number {
  const u1 = (fmix32(h ^ 0x68e31da4) + 1) / (TWO_32 + 1);
  const u2 = unitOf(fmix32(h ^ 0xb5297a4d));
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
