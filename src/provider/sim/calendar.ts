/**
 * @module Listed expirations of the simulated index options: PM dailies on every weekday for a few weeks,
 * and AM monthlies (plus the PM root) on every 3rd Friday for a year. No exchange holidays.
 */
import { nyDate, yearsToSettlement } from '../../domain/market-time.js';

/** One listed expiration date with the roots that trade it (both on a 3rd Friday). */
export interface ListedExpiration {
  /** YYYY-MM-DD */
  date: string;
  roots: string[];
}

export interface CalendarSpec {
  dailyRoot: string;
  monthlyRoot: string;
  /** Weekdays of PM dailies listed ahead (default 30, about six weeks). */
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

/** True when a YYYY-MM-DD date is the 3rd Friday of its month. */
export function isThirdFriday(date: string): boolean {
  const [y, m] = date.split('-').map(Number) as [number, number];
  return thirdFriday(y, m - 1) === date;
}

/**
 * Expirations listed at `nowMs`, ascending: a date is listed for a root while that root's settlement
 * on it is still in the future (so a 3rd Friday loses its AM root at 09:30 New York, and keeps the PM root
 * until 16:00).
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
    const dow = new Date(day).getUTCDay();
    if (dow === 0 || dow === 6) continue;
    add(formatDate(day), spec.dailyRoot);
    n++;
  }
  const t = new Date(today);
  for (let i = 0; i <= monthlyCount; i++) {
    const date = thirdFriday(t.getUTCFullYear(), t.getUTCMonth() + i);
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
