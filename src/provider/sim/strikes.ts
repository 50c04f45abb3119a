/**
 * @module Strike ladders: fine steps near the money, wider far out (e.g. SPX 5 / 25 / 50 / 100), anchored on
 * a fixed level so the listed strikes do not move with the spot.
 */

/** Share of each side's strikes at each step, nearest band first. */
const BAND_SHARES = [0.6, 0.2, 0.12] as const;

/** Lowest strike as a fraction of the anchor. */
const MIN_STRIKE_FRACTION = 0.05;

/**
 * `count` strikes (ascending) around `anchor`: half below, half above, each side spending 60 % of its
 * strikes on the finest step, then 20 %, 12 % and the rest on the wider ones. Strikes sit on multiples of
 * their step; a side that reaches the floor hands its remaining strikes to the other side.
 */
export function strikeLadder(anchor: number, steps: readonly number[], count: number): number[] {
  const fine = steps[0] ?? 1;
  const atm = Math.round(anchor / fine) * fine;
  const n = Math.max(1, Math.floor(count));
  const below = Math.floor((n - 1) / 2);
  const quota = (side: number): number[] => {
    const q = BAND_SHARES.map((s) => Math.round(side * s));
    q.push(Math.max(0, side - q.reduce((a, b) => a + b, 0)));
    return q;
  };
  const floor = Math.max(fine, anchor * MIN_STRIKE_FRACTION);
  const down: number[] = [];
  let k = atm;
  const downQuota = quota(below);
  bands: for (let b = 0; b < downQuota.length; b++) {
    const step = steps[b] ?? fine;
    for (let i = 0; i < (downQuota[b] ?? 0); i++) {
      const next = Math.ceil(k / step) * step - step;
      if (next < floor) break bands;
      down.push((k = next));
    }
  }
  const up: number[] = [];
  const upQuota = quota(n - 1 - down.length);
  k = atm;
  for (let b = 0; b < upQuota.length; b++) {
    const step = steps[b] ?? fine;
    for (let i = 0; i < (upQuota[b] ?? 0); i++) up.push((k = Math.floor(k / step) * step + step));
  }
  return [...down.reverse(), atm, ...up];
}
