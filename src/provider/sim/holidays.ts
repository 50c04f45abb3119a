/**
 * @module NYSE full-day holidays (the rules, not a table): New Year, MLK, Presidents, Good Friday, Memorial,
 * Juneteenth, Independence, Labor, Thanksgiving, Christmas, with weekend observance. Early closes are ignored.
 */

const cache = new Map<number, Set<string>>();

function iso(y: number, m: number, d: number): string {
  return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
}

/** The n-th (1-based; -1 = last) given weekday (0 = Sunday) of a month. */
function nthWeekday(y: number, m: number, weekday: number, n: number): string {
  if (n > 0) {
    const first = new Date(Date.UTC(y, m - 1, 1)).getUTCDay();
    return iso(y, m, 1 + ((weekday - first + 7) % 7) + 7 * (n - 1));
  }
  const lastDay = new Date(Date.UTC(y, m, 0));
  const back = (lastDay.getUTCDay() - weekday + 7) % 7;
  return iso(y, m, lastDay.getUTCDate() - back);
}

/** A fixed-date holiday moved to Friday when on Saturday, to Monday when on Sunday. */
function observed(y: number, m: number, d: number): string {
  const dow = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return dow === 6 ? iso(y, m, d - 1) : dow === 0 ? iso(y, m, d + 1) : iso(y, m, d);
}

/** Easter Sunday (anonymous Gregorian algorithm). */
function easter(y: number): [month: number, day: number] {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return [month, day];
}

/** The NYSE full-day holidays of a year (YYYY-MM-DD). */
export function marketHolidays(year: number): ReadonlySet<string> {
  let set = cache.get(year);
  if (!set) {
    const [em, ed] = easter(year);
    const jan1 = new Date(Date.UTC(year, 0, 1)).getUTCDay();
    set = new Set([
      // New Year's Day on a Saturday is not observed on the Friday before (NYSE rule 7.2).
      ...(jan1 === 6 ? [] : [observed(year, 1, 1)]),
      nthWeekday(year, 1, 1, 3),
      nthWeekday(year, 2, 1, 3),
      iso(year, em, ed - 2),
      nthWeekday(year, 5, 1, -1),
      ...(year >= 2022 ? [observed(year, 6, 19)] : []),
      observed(year, 7, 4),
      nthWeekday(year, 9, 1, 1),
      nthWeekday(year, 11, 4, 4),
      observed(year, 12, 25),
    ]);
    cache.set(year, set);
  }
  return set;
}

/** True on weekdays that are not NYSE holidays. */
export function isTradingDay(date: string): boolean {
  const dow = new Date(`${date}T12:00:00Z`).getUTCDay();
  if (dow === 0 || dow === 6) return false;
  return !marketHolidays(Number(date.slice(0, 4))).has(date);
}

/** The trading day before `date`. */
export function previousTradingDay(date: string): string {
  let ms = Date.parse(`${date}T12:00:00Z`);
  let d: string;
  do {
    ms -= 86_400_000;
    d = new Date(ms).toISOString().slice(0, 10);
  } while (!isTradingDay(d));
  return d;
}
