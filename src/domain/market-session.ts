/**
 * @module The New York equity session at an instant: regular hours 09:30–16:00, early closes at 13:00
 * (the day after Thanksgiving, Christmas Eve and July 3 when they are trading days), weekends and NYSE
 * holidays (the same calendar the simulated market lists expirations on).
 */
import { isEarlyClose, nyDate, nyWallClockToUtc } from './market-time.js';
import { isTradingDay } from '../provider/sim/holidays.js';

// The early-close rule lives with the settlement instants it moves (PM roots settle on the 13:00 close).
export { isEarlyClose };

export type SessionState = 'open' | 'pre-market' | 'after-hours' | 'weekend' | 'holiday';

export interface MarketSession {
  /** New York date (YYYY-MM-DD). */
  date: string;
  state: SessionState;
  /** Today closes at 13:00 New York. */
  earlyClose: boolean;
  /** Epoch ms of the next open (today's when before it). */
  nextOpenMs: number;
  /** Epoch ms of today's close when open or pre-market. */
  closeMs?: number;
}

function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

function weekday(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

function nextTradingDay(date: string): string {
  let d = addDays(date, 1);
  while (!isTradingDay(d)) d = addDays(d, 1);
  return d;
}

/** The session at `nowMs`. */
export function marketSession(nowMs: number): MarketSession {
  const date = nyDate(nowMs);
  const earlyClose = isEarlyClose(date);
  if (!isTradingDay(date)) {
    const dow = weekday(date);
    return {
      date,
      state: dow === 0 || dow === 6 ? 'weekend' : 'holiday',
      earlyClose: false,
      nextOpenMs: nyWallClockToUtc(nextTradingDay(date), 9, 30),
    };
  }
  const openMs = nyWallClockToUtc(date, 9, 30);
  const closeMs = nyWallClockToUtc(date, earlyClose ? 13 : 16, 0);
  if (nowMs < openMs) return { date, state: 'pre-market', earlyClose, nextOpenMs: openMs, closeMs };
  if (nowMs < closeMs) {
    return {
      date,
      state: 'open',
      earlyClose,
      nextOpenMs: nyWallClockToUtc(nextTradingDay(date), 9, 30),
      closeMs,
    };
  }
  return {
    date,
    state: 'after-hours',
    earlyClose,
    nextOpenMs: nyWallClockToUtc(nextTradingDay(date), 9, 30),
  };
}
