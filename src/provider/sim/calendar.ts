/**
 * @module Listed expirations of the simulated index options: PM dailies on every trading day for a few
 * weeks, and AM monthlies (plus the PM root) on every 3rd Friday for a year. Exchange holidays list nothing;
 * a monthly whose 3rd Friday is a holiday (Good Friday) moves to the trading day before.
 */
import { nyDate, yearsToSettlement } from '../../domain/market-time.js';
import { isTradingDay, previousTradingDay } from './holidays.js';

/** One listed expiration date with the roots that trade it (both on a 3rd Friday). */
export interface ListedExpiration {
  /** YYYY-MM-DD */
  date: string;
  roots: string[];
}

export interface CalendarSpec {
  dailyRoot: string;
  monthlyRoot: string;
  /** Trading days of PM dailies listed ahead (default 30, about six weeks). */
  dailyCount?: number;
  /** Months of 3rd-Friday monthlies listed ahead (default 12). */
  monthlyCount?: number;
}

const DAY_MS = 86_400_000;

function parseDate(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d);
}

function formatDate(utcMidnight: number): string {
  return new Date(utcMidnight).toISOString().slice(0, 10);
}

/** The 3rd Friday (YYYY-MM-DD) of a month (month 0-11, may overflow into later years). */
export function thirdFriday(year: number, month: number): string {
  const first = new Date(Date.UTC(year, month, 1));
  const firstFriday = 1 + ((5 - first.getUTCDay() + 7) % 7);
  return formatDate(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), firstFriday + 14));
}

/** The monthly expiration of a month: its 3rd Friday, or the trading day before when that is a holiday. */
export function monthlyExpiration(year: number, month: number): string {
  const friday = thirdFriday(year, month);
  return isTradingDay(friday) ? friday : previousTradingDay(friday);
}

/**
 * Expirations listed at `nowMs`, ascending: a date is listed for a root while that root's settlement
 * on it is still in the future (so a 3rd Friday loses its AM root at 09:30 New York, and keeps the PM root
 * until the close: 16:00, 13:00 on an early-close day).
 */
export function listExpirations(spec: CalendarSpec, nowMs: number): ListedExpiration[] {
  const dailyCount = spec.dailyCount ?? 30;
  const monthlyCount = spec.monthlyCount ?? 12;
  const today = parseDate(nyDate(nowMs));
  const roots = new Map<string, Set<string>>();
  const add = (date: string, root: string): void => {
    if (yearsToSettlement(nowMs, date, root) <= 0) return;
    let set = roots.get(date);
    if (!set) roots.set(date, (set = new Set()));
    set.add(root);
  };
  for (let day = today, n = 0; n < dailyCount; day += DAY_MS) {
    const date = formatDate(day);
    if (!isTradingDay(date)) continue;
    add(date, spec.dailyRoot);
    n++;
  }
  const t = new Date(today);
  for (let i = 0; i <= monthlyCount; i++) {
    const date = monthlyExpiration(t.getUTCFullYear(), t.getUTCMonth() + i);
    add(date, spec.monthlyRoot);
    add(date, spec.dailyRoot);
  }
  return [...roots.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([date, set]) => ({
      date,
      roots: [...set].sort(),
    }));
}
