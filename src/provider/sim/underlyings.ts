/** @module The simulated underlyings (I:SPX, I:NDX): spot level, roots, strike grid and volatility surface knobs. */

/** Everything the simulator needs to know about one index underlying. */
export interface SimUnderlying {
  /** Vendor symbol, e.g. `I:SPX`. */
  symbol: string;
  /** Level the spot path wanders around. */
  baseSpot: number;
  /** PM-settled root listed on every weekday, e.g. `SPXW`. */
  dailyRoot: string;
  /** AM-settled root listed on 3rd Fridays, e.g. `SPX`. */
  monthlyRoot: string;
  /** Strike spacings from the money outwards, e.g. [5, 25, 50, 100]. */
  strikeSteps: readonly [number, number, number, number];
  /** Annualised volatility of the spot path. */
  spotVol: number;
  /** ATM implied vol at the short end and at the long end of the term structure. */
  atmShort: number;
  atmLong: number;
  /** Smile slope per unit of ln(K/S) at one month (negative: puts richer). */
  skew: number;
  /** Smile curvature per unit of ln(K/S)² at one month. */
  curvature: number;
  /** Open-interest scale at the money. */
  oiScale: number;
}

export const SIM_UNDERLYINGS: readonly SimUnderlying[] = [
  {
    symbol: 'I:SPX',
    baseSpot: 6850,
    dailyRoot: 'SPXW',
    monthlyRoot: 'SPX',
    strikeSteps: [5, 25, 50, 100],
    spotVol: 0.15,
    atmShort: 0.12,
    atmLong: 0.17,
    skew: -0.9,
    curvature: 1.2,
    oiScale: 6000,
  },
  {
    symbol: 'I:NDX',
    baseSpot: 25000,
    dailyRoot: 'NDXP',
    monthlyRoot: 'NDX',
    strikeSteps: [10, 25, 50, 100],
    spotVol: 0.2,
    atmShort: 0.16,
    atmLong: 0.21,
    skew: -0.7,
    curvature: 1.0,
    oiScale: 900,
  },
];

/** The simulated underlying for a vendor symbol, or undefined. */
export function simUnderlying(symbol: string): SimUnderlying | undefined {
  return SIM_UNDERLYINGS.find((u) => u.symbol === symbol);
}
