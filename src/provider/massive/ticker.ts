/**
 * @module Option tickers: `O:` + root + YYMMDD + C/P + strike×1000 in 8 digits, parsed from the right
 * (roots vary in length: SPX, SPXW, NDXP, AAPL7).
 */
import type { ContractType } from './types.js';

export interface TickerParts {
  root: string;
  /** YYYY-MM-DD */
  expiration: string;
  type: ContractType;
  strike: number;
}

const TICKER_RE = /^O:([A-Z][A-Z0-9.]{0,9})(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/;

/** Parses an option ticker; null when it is not one. */
export function parseOptionTicker(ticker: string): TickerParts | null {
  const m = TICKER_RE.exec(ticker);
  if (!m) return null;
  const [, root, yy, mm, dd, type, strikeDigits] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    ContractType,
    string,
  ];
  const month = Number(mm);
  const day = Number(dd);
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  const strike = Number(strikeDigits) / 1000;
  if (!(strike > 0)) return null;
  return { root, expiration: `20${yy}-${mm}-${dd}`, type, strike };
}

/** Builds an option ticker from its parts (the inverse of {@link parseOptionTicker}). */
export function formatOptionTicker(p: TickerParts): string {
  const [y, m, d] = p.expiration.split('-') as [string, string, string];
  const strike = String(Math.round(p.strike * 1000)).padStart(8, '0');
  return `O:${p.root}${y.slice(2)}${m}${d}${p.type}${strike}`;
}
