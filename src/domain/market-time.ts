/**
 * @module Market time: New York calendar dates, settlement instants and year fractions.
 *
 * Options on US indices settle in New York time. PM-settled roots (SPXW, NDXP, equity options) settle on the
 * close of the expiration date: 16:00, or 13:00 on an NYSE early-close day (July 3, Christmas Eve, the day
 * after Thanksgiving, when they are trading days); AM-settled index monthlies (SPX, NDX, RUT, VIX roots)
 * settle on the opening print, taken as 09:30, early close or not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTradingDay, marketHolidays } from '../provider/sim/holidays.js';
import { offsetAt, parseTzif, type ZoneRules } from './zone-rules.js';

export const MARKET_TZ = 'America/New_York';
export const MS_PER_YEAR = 365 * 24 * 3600 * 1000;

/** Roots whose options settle on the morning (AM) print. Every other root is PM-settled. */
export const AM_SETTLED_ROOTS: ReadonlySet<string> = new Set(['SPX', 'NDX', 'RUT', 'VIX']);

export type SettlementStyle = 'AM' | 'PM';

export function settlementStyle(root: string): SettlementStyle {
  return AM_SETTLED_ROOTS.has(root) ? 'AM' : 'PM';
}

interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Where the system keeps its TZif files (`TZDIR` first, as the C library does). */
function zoneinfoDirs(): string[] {
  const dirs = ['/usr/share/zoneinfo', '/usr/lib/zoneinfo', '/usr/share/lib/zoneinfo'];
  return process.env.TZDIR ? [process.env.TZDIR, ...dirs] : dirs;
}

/** New York's rules from the system's zoneinfo; null where there is none (ICU then answers). */
export function loadMarketZone(dirs: readonly string[] = zoneinfoDirs()): ZoneRules | null {
  for (const dir of dirs) {
    try {
      const rules = parseTzif(readFileSync(join(dir, MARKET_TZ)));
      if (rules) return rules;
    } catch {
      // Not there: the next place, then ICU.
    }
  }
  return null;
}

let zone: ZoneRules | null | undefined;
let formatter: Intl.DateTimeFormat | undefined;

function icuParts(ms: number): ZonedParts {
  formatter ??= new Intl.DateTimeFormat('en-US', {
    timeZone: MARKET_TZ,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const out: Record<string, number> = {};
  for (const p of formatter.formatToParts(new Date(ms))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return {
    year: out.year ?? 0,
    month: out.month ?? 0,
    day: out.day ?? 0,
    hour: out.hour ?? 0,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

/**
 * New York's calendar fields at an instant: from the system's zone rules (read once per thread), or from
 * ICU where the system has none (see zone-rules.ts for why ICU is the fallback, not the rule).
 */
function zonedParts(ms: number): ZonedParts {
  if (zone === undefined) zone = loadMarketZone();
  if (zone === null || !Number.isFinite(ms)) return icuParts(ms);
  const d = new Date(ms + offsetAt(zone, Math.floor(ms / 1000)) * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** The New York calendar date (YYYY-MM-DD) at an instant. */
export function nyDate(ms: number): string {
  const p = zonedParts(ms);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The New York date and wall-clock time (YYYY-MM-DD HH:MM, 24-hour) at an instant. */
export function nyDateTime(ms: number): string {
  const p = zonedParts(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}`;
}

/** The UTC instant of a New York wall-clock time on a YYYY-MM-DD date (DST-correct); NaN if not a date. */
export function nyWallClockToUtc(date: string, hour: number, minute: number): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(y, m - 1, d, hour, minute);
  // Not a date (`20260116`): NaN, so a settlement from it is never in the future (Intl would throw).
  if (!Number.isFinite(guess)) return NaN;
  // Offset of New York from UTC at the guess; applying it twice settles DST edges.
  let ms = guess;
  for (let i = 0; i < 2; i++) {
    const p = zonedParts(ms);
    const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    ms = guess - (asUtc - ms);
  }
  return ms;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Whether a trading day (YYYY-MM-DD) closes at 13:00 New York: July 3, Christmas Eve and the day after
 * Thanksgiving, when they are trading days (market-session.ts's sessions, settlementInstant's PM close).
 *
 * @example
 * isEarlyClose('2026-12-24'); // true (a Thursday)
 * isEarlyClose('2026-07-03'); // false (the observed Independence Day holiday)
 */
export function isEarlyClose(date: string): boolean {
  if (!DATE_RE.test(date) || !isTradingDay(date)) return false;
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  if (m === 7 && d === 3) return true;
  if (m === 12 && d === 24) return true;
  // The day after Thanksgiving (the 4th Thursday of November, a holiday).
  const before = new Date(Date.UTC(y, m - 1, d - 1));
  return m === 11 && before.getUTCDay() === 4 && marketHolidays(y).has(before.toISOString().slice(0, 10));
}

const settlementCache = new Map<string, number>();

/**
 * Settlement instant (epoch ms) of an expiration for a root: AM 09:30; PM the close, 16:00 or 13:00 on an
 * early-close day ({@link isEarlyClose}). NaN when the expiration is not a date.
 *
 * @example
 * settlementInstant('2026-12-24', 'SPXW'); // 13:00 New York (Christmas Eve closes early)
 */
export function settlementInstant(expiration: string, root: string): number {
  const style = settlementStyle(root);
  const cacheKey = `${expiration}|${style}`;
  let ms = settlementCache.get(cacheKey);
  if (ms === undefined) {
    ms =
      style === 'AM'
        ? nyWallClockToUtc(expiration, 9, 30)
        : nyWallClockToUtc(expiration, isEarlyClose(expiration) ? 13 : 16, 0);
    settlementCache.set(cacheKey, ms);
  }
  return ms;
}

/** Years (of 365 days) from asOf to the settlement of (expiration, root); negative once expired. */
export function yearsToSettlement(asOfMs: number, expiration: string, root: string): number {
  return (settlementInstant(expiration, root) - asOfMs) / MS_PER_YEAR;
}

/** YYYY-MM-DD → YYYYMMDD. */
export function compactDate(date: string): string {
  return date.replaceAll('-', '');
}
