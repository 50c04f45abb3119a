/**
 * @module One simulated index-option snapshot, shaped like a raw `/v3/snapshot/options` result: Black-Scholes
 * price and greeks from the smile, a quote on the tick grid, a last trade, a day bar and open interest.
 *
 * Gaps copied from the real API: deep in-the-money contracts carry `greeks: {}` and no `implied_volatility`;
 * quiet strikes did not trade today (empty `day`, an older `last_trade`) and a share of the far
 * out-of-the-money ones never traded at all (no `last_trade`).
 *
 * Size budget: the raw JSON is stored verbatim in Redis, so optional vendor fields the worker never reads
 * are left out (`last_trade.conditions` / `timeframe`, `last_quote.last_updated` / `timeframe`,
 * `day.last_updated`, `fmv`); every field the OpenAPI spec marks required is kept. That gives about
 * 620–660 bytes of compact JSON a contract on a normal chain and 565–580 on a burst one.
 */
import { blackScholes } from '../../domain/black-scholes.js';
import { formatOptionTicker } from '../massive/ticker.js';
import type { ContractType, RawContract } from '../massive/types.js';
import { mixString, mulberry32 } from './prng.js';
import { ceilToTick, floorToTick, roundSig, roundTo, tickSize } from './rounding.js';
import { smileVol } from './smile.js';
import type { SimUnderlying } from './underlyings.js';

/** What every contract of one (underlying, root, expiration, tick) shares. */
export interface ExpirationContext {
  u: SimUnderlying;
  root: string;
  /** YYYY-MM-DD */
  expiration: string;
  /** Years to settlement (positive). */
  t: number;
  /** Spot as served (cents): greeks are computed from this exact value. */
  spot: number;
  /** Spot over the underlying's base level (drives the spot-vol link). */
  spotRatio: number;
  asOfMs: number;
  /** Start of the New York day, epoch ms (the day bar's `last_updated`). */
  dayStartMs: number;
  /** Shared `underlying_asset` object (one per underlying and tick). */
  underlyingAsset: NonNullable<RawContract['underlying_asset']>;
  /** Hash of (seed, underlying, tick): quote-level noise. */
  tickHash: number;
  /** Hash of (seed, underlying, New York date): open interest, day bar, trade presence. */
  dayHash: number;
  /** Monthly (AM) roots carry more open interest. */
  monthly: boolean;
}

/** Deep in the money: |delta| at or above this (and intrinsic value) means no greeks and no iv. */
const DEEP_ITM_DELTA = 0.99;
/** Far out of the money: |delta| below this may mean the contract never traded. */
const FAR_OTM_DELTA = 0.05;
const FAR_OTM_NO_TRADE_SHARE = 0.35;
const EXCHANGES = [300, 301, 302, 303, 307, 308, 309, 312, 313, 316, 322, 323, 325] as const;

function oiMultiplier(strike: number): number {
  if (strike % 100 === 0) return 3;
  if (strike % 50 === 0) return 2;
  if (strike % 25 === 0) return 1.5;
  return 1;
}

/** Builds one contract snapshot. Deterministic in its inputs. */
export function simContract(ctx: ExpirationContext, type: ContractType, strike: number): RawContract {
  const ticker = formatOptionTicker({ root: ctx.root, expiration: ctx.expiration, type, strike });
  const idHash = mixString(0, ticker);
  const rTick = mulberry32(ctx.tickHash ^ idHash);
  const rDay = mulberry32(ctx.dayHash ^ idHash);

  const x = Math.log(strike / ctx.spot);
  const iv = roundTo(smileVol(ctx.u, ctx.t, x, ctx.spotRatio), 5);
  const bs = blackScholes({ side: type, spot: ctx.spot, strike, t: ctx.t, iv });
  const intrinsic = type === 'C' ? Math.max(0, ctx.spot - strike) : Math.max(0, strike - ctx.spot);
  const absDelta = Math.abs(bs.delta);
  const deepItm = intrinsic > 0 && absDelta >= DEEP_ITM_DELTA;

  // Quote around the model price on the tick grid.
  const price = bs.price;
  const tick = tickSize(price);
  let bid: number;
  let ask: number;
  if (price < 0.025) {
    bid = 0;
    ask = 0.05;
  } else {
    const spread = Math.max(tick, price * (0.006 + 0.03 * rTick()));
    bid = Math.max(0, floorToTick(price - spread / 2, tick));
    ask = ceilToTick(price + spread / 2, tick);
    if (ask <= bid) ask = roundTo(bid + tick, 2);
  }
  const mid = roundTo((bid + ask) / 2, 3);
  const sizeOf = (r: number): number => 1 + Math.floor(r * r * 400);
  const bidSize = sizeOf(rTick());
  const askSize = sizeOf(rTick());

  // Open interest clusters around the money and at round strikes; stable through the day.
  const width = 0.015 + 0.2 * Math.sqrt(ctx.t);
  const favoured = (type === 'P' && x < 0) || (type === 'C' && x > 0) ? 1.3 : 0.7;
  const oi =
    Math.round(
      ctx.u.oiScale *
        (ctx.monthly ? 2 : 1) *
        Math.exp(-((x / width) ** 2)) *
        oiMultiplier(strike) *
        favoured *
        (0.4 + 1.2 * rDay()),
    ) + Math.floor(rDay() * 25);

  // Trading activity fades away from the money: quiet strikes have an empty day bar and a last trade from
  // an earlier day; some far out-of-the-money ones never traded at all.
  const activity = Math.exp(-((x / (0.5 * width)) ** 2));
  const tradedToday = rDay() < 0.05 + 0.9 * activity;
  const everTraded =
    tradedToday || !(absDelta < FAR_OTM_DELTA && !deepItm && rDay() < FAR_OTM_NO_TRADE_SHARE);
  const c: RawContract = {};
  let lastPrice = 0;
  let lastMs = 0;
  if (tradedToday) {
    lastPrice = Math.max(0.05, floorToTick(mid + (rTick() - 0.5) * (ask - bid), tick));
    lastMs = Math.round(ctx.asOfMs - rTick() * 1_800_000);
    const prev = roundTo(Math.max(0.05, lastPrice * Math.exp(0.25 * (rDay() - 0.5))), 2);
    const open = roundTo(Math.max(0.05, prev * Math.exp(0.1 * (rDay() - 0.5))), 2);
    const high = roundTo(Math.max(open, lastPrice) * (1 + 0.05 * rDay()), 2);
    const low = roundTo(Math.max(0.05, Math.min(open, lastPrice) * (1 - 0.05 * rDay())), 2);
    c.day = {
      change: roundTo(lastPrice - prev, 2),
      change_percent: roundTo(((lastPrice - prev) / prev) * 100, 2),
      close: lastPrice,
      high,
      low,
      open,
      previous_close: prev,
      volume: 1 + Math.floor(oi * 0.4 * rDay()),
      vwap: roundTo(low + (high - low) * rDay(), 2),
    };
  } else {
    c.day = {};
    if (everTraded) {
      lastPrice = Math.max(0.05, floorToTick(mid * Math.exp(0.6 * (rDay() - 0.5)), tick));
      lastMs = Math.round(ctx.dayStartMs - (0.3 + rDay() * 9) * 86_400_000);
    }
  }
  c.details = {
    contract_type: type === 'C' ? 'call' : 'put',
    exercise_style: 'european',
    expiration_date: ctx.expiration,
    shares_per_contract: 100,
    strike_price: strike,
    ticker,
  };
  if (deepItm) {
    c.greeks = {};
  } else {
    c.greeks = {
      delta: roundSig(bs.delta, 6),
      gamma: roundSig(bs.gamma, 6),
      theta: roundSig(bs.theta, 6),
      vega: roundSig(bs.vega, 6),
    };
    c.implied_volatility = iv;
  }
  c.last_quote = {
    ask,
    ask_size: askSize,
    bid,
    bid_size: bidSize,
    midpoint: mid,
  };
  if (everTraded) {
    c.last_trade = {
      exchange: EXCHANGES[Math.floor(rDay() * EXCHANGES.length)] ?? 300,
      price: lastPrice,
      sip_timestamp: lastMs * 1e6,
      size: 1 + Math.floor(rDay() ** 2 * 30),
    };
  }
  c.open_interest = oi;
  c.underlying_asset = ctx.underlyingAsset;
  return c;
}
