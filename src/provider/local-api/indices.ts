/**
 * @module `GET /v3/snapshot/indices`: index values from the dataset, shaped like the vendor's results, with
 * per-ticker `{ticker, error: 'NOT_FOUND', message}` items for unknown tickers.
 */
import { nyDate, nyWallClockToUtc } from '../../domain/market-time.js';
import { isTradingDay } from '../sim/holidays.js';
import type { IndexSession, MarketDataset } from './dataset.js';

/** Names the vendor gives common indices; others are served under their ticker. */
export const INDEX_NAMES: Readonly<Record<string, string>> = {
  'I:SPX': "Standard & Poor's 500",
  'I:NDX': 'Nasdaq-100',
  'I:DJI': 'Dow Jones Industrial Average',
  'I:RUT': 'Russell 2000',
  'I:VIX': 'Cboe Volatility Index',
};

export interface IndexResult {
  last_updated: number;
  market_status: string;
  name: string;
  session: IndexSession;
  ticker: string;
  timeframe: 'REAL-TIME';
  type: 'indices';
  value: number;
}

export interface IndexError {
  error: 'NOT_FOUND';
  message: string;
  ticker: string;
}

/** `open` on trading days 09:30–16:00 New York, else `closed` (no early closes, no extended hours). */
export function marketStatus(now: number): 'open' | 'closed' {
  const date = nyDate(now);
  if (!isTradingDay(date)) return 'closed';
  return now >= nyWallClockToUtc(date, 9, 30) && now < nyWallClockToUtc(date, 16, 0) ? 'open' : 'closed';
}

/** The result item for one ticker at `now`. */
export function indexResult(dataset: MarketDataset, ticker: string, now: number): IndexResult | IndexError {
  const value = dataset.indexValue(ticker, now);
  if (value === null) return { error: 'NOT_FOUND', message: 'Ticker not found.', ticker };
  const session = dataset.indexSession?.(ticker, now) ?? {
    change: 0,
    change_percent: 0,
    close: value,
    high: value,
    low: value,
    open: value,
    previous_close: value,
  };
  return {
    last_updated: Math.round(now) * 1e6,
    market_status: marketStatus(now),
    name: INDEX_NAMES[ticker] ?? ticker,
    session,
    ticker,
    timeframe: 'REAL-TIME',
    type: 'indices',
    value,
  };
}
