/**
 * @module Strike ladders: fine steps near the money, wider far out (e.g. SPX 5 / 25 / 50 / 100), around an
 * anchor level (the simulator uses the day's opening spot, so listed strikes do not move within a day).
 */

/** Split of the strikes beyond the finest band between the next three steps. */
const WIDE_SHARES = [0.5, 0.3] as const;

/** Lowest strike as a fraction of the anchor. */
const MIN_STRIKE_FRACTION = 0.05;

/**
 * `count` strikes (ascending) around `anchor`: half below, half above, each side spending 60–80 % of
 * its strikes on the finest step and the rest on the wider ones (half, 30 %, 20 %). Strikes sit on multiples of
 * their step; a side that reaches the floor hands its remaining strikes to the other side.
 */
export function strikeLadder(anchor: number, steps: readonly number[], count: number): number[] {
  const fine = steps[0] ?? 1;
  const atm = Math.round(anchor / fine) * fine;
  const n = Math.max(1, Math.floor(count));
  const below = Math.floor((n - 1) / 2);
  const quota = (side: number): number[] => {
    // Long ladders (burst days) keep more strikes on the finest step: 60 % at 50 a side, 80 % from 500.
    const fineShare = Math.min(0.8, 0.6 + 0.2 * Math.log10(Math.max(1, side / 50)));
    const q = [Math.round(side * fineShare)];
    const wide = side - (q[0] ?? 0);
    for (const s of WIDE_SHARES) q.push(Math.round(wide * s));
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
