/**
 * @module What the local stream server sends: quotes, trades and index values from a dataset. The
 * simulated market's quotes move with its spot (priced at the instant they are sent, from the same smile
 * as the REST snapshot), deterministic from the seed and the clock.
 */
import { blackScholes } from '../../domain/black-scholes.js';
import { yearsToSettlement } from '../../domain/market-time.js';
import { parseOptionTicker } from '../massive/ticker.js';
import { hashOf, mulberry32 } from '../sim/prng.js';
import { ceilToTick, floorToTick, roundTo, tickSize } from '../sim/rounding.js';
import type { SimMarket } from '../sim/sim-market.js';
import { smileVol } from '../sim/smile.js';
import { SIM_UNDERLYINGS, type SimUnderlying } from '../sim/underlyings.js';

/** A quote's prices and sizes (the server adds `ev`, `sym`, `t`, `q`). */
export interface FeedQuote {
  bp: number;
  ap: number;
  bs: number;
  as: number;
  bx: number;
  ax: number;
}

/** A source of streamed values. */
export interface StreamSource {
  /** The contract's quote at `now` (the n-th message for it), or null when the contract is unknown or settled. */
  quote(ticker: string, now: number, n: number): FeedQuote | null;
  /** An index's value at `now`, or null when unknown. */
  indexValue(ticker: string, now: number): number | null;
}

/** A source that makes nothing up (a replay: only the recording's timeline is sent). */
export const NO_STREAM_SOURCE: StreamSource = { quote: () => null, indexValue: () => null };

const EXCHANGES = [300, 301, 302, 303, 307, 308, 309, 312, 313, 316, 322, 323, 325] as const;

function underlyingOfRoot(root: string): SimUnderlying | undefined {
  return SIM_UNDERLYINGS.find((u) => u.dailyRoot === root || u.monthlyRoot === root);
}

/** Quotes of the simulated market at any instant. */
export class SimStreamSource implements StreamSource {
  constructor(private readonly market: SimMarket) {}

  quote(ticker: string, now: number, n: number): FeedQuote | null {
    const p = parseOptionTicker(ticker);
    if (!p) return null;
    const u = underlyingOfRoot(p.root);
    if (!u) return null;
    const spot = this.market.liveSpot(u.symbol, now);
    const t = yearsToSettlement(now, p.expiration, p.root);
    if (spot === null || !(t > 0)) return null;
    const iv = roundTo(smileVol(u, t, Math.log(p.strike / spot), spot / u.baseSpot), 5);
    const price = blackScholes({ side: p.type, spot, strike: p.strike, t, iv }).price;
    const r = mulberry32(hashOf(this.market.seed, ticker, n));
    const tick = tickSize(price);
    let bp: number;
    let ap: number;
    if (price < 0.025) {
      bp = 0;
      ap = 0.05;
    } else {
      const spread = Math.max(tick, price * (0.006 + 0.03 * r()));
      bp = Math.max(0, floorToTick(price - spread / 2, tick));
      ap = ceilToTick(price + spread / 2, tick);
      if (ap <= bp) ap = roundTo(bp + tick, 2);
    }
    const size = (x: number): number => 1 + Math.floor(x * x * 400);
    return {
      bp,
      ap,
      bs: size(r()),
      as: size(r()),
      bx: EXCHANGES[Math.floor(r() * EXCHANGES.length)] ?? 300,
      ax: EXCHANGES[Math.floor(r() * EXCHANGES.length)] ?? 300,
    };
  }

  indexValue(ticker: string, now: number): number | null {
    return this.market.liveSpot(ticker, now);
  }
}
