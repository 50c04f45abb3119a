/**
 * @module A time zone's rules from its TZif file (RFC 8536, the system's `zoneinfo`), and the UTC offset
 * they give at an instant. Pure: the bytes come from the caller.
 *
 * Why not `Intl.DateTimeFormat`: the first one a process makes loads ICU's locale and calendar data, ~8 MB
 * of resident memory for one time zone's offsets (measured: README "Performance", Memory). The TZif file
 * is the data the C library itself reads, kept current by the system's tzdata package.
 *
 * What is read: the version 2+ block (64-bit transition times; a version 1 file's 32-bit block when that is
 * all there is), each transition's UTC offset, and the footer's POSIX TZ rule for instants after the last
 * transition. Unsupported (null, so the caller falls back to ICU): files with leap seconds (`right/`
 * zones) and footer rules other than `Mm.w.d` dates.
 */

/** A daylight-saving rule (POSIX TZ footer): `std offset dst [offset],start[/time],end[/time]`. */
export interface PosixRule {
  /** UTC offset (seconds, east positive) outside daylight time. */
  stdOffset: number;
  /** UTC offset in daylight time; null when the zone has none. */
  dstOffset: number | null;
  start?: RuleDate;
  end?: RuleDate;
}

/** `Mm.w.d/time`: the w-th (5 = last) weekday d (0 = Sunday) of month m, at `time` seconds local time. */
export interface RuleDate {
  month: number;
  week: number;
  weekday: number;
  time: number;
}

export interface ZoneRules {
  /** Transition instants, seconds since the epoch, ascending. */
  transitions: Float64Array;
  /** The UTC offset (seconds) from each transition on. */
  offsets: Int32Array;
  /** The offset before the first transition (the file's first time type). */
  initialOffset: number;
  /** The rule after the last transition; null: the last transition's offset holds. */
  footer: PosixRule | null;
}

const HEADER = 44;

interface Counts {
  isut: number;
  isstd: number;
  leap: number;
  time: number;
  type: number;
  char: number;
}

function counts(view: DataView, at: number): Counts {
  const u = (i: number): number => view.getUint32(at + 20 + 4 * i);
  return { isut: u(0), isstd: u(1), leap: u(2), time: u(3), type: u(4), char: u(5) };
}

function blockLength(c: Counts, timeSize: number): number {
  return c.time * timeSize + c.time + c.type * 6 + c.char + c.leap * (timeSize + 4) + c.isstd + c.isut;
}

/** Parses a TZif file; null when it is not one, or uses what this reader does not support (see module). */
export function parseTzif(bytes: Uint8Array): ZoneRules | null {
  if (bytes.length < HEADER || String.fromCharCode(...bytes.subarray(0, 4)) !== 'TZif') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[4] ?? 0;
  const v1 = counts(view, 0);
  let at = HEADER;
  let c = v1;
  let timeSize = 4;
  if (version >= 0x32) {
    at = HEADER + blockLength(v1, 4);
    if (bytes.length < at + HEADER) return null;
    c = counts(view, at);
    at += HEADER;
    timeSize = 8;
  }
  if (c.leap > 0 || c.type === 0 || bytes.length < at + blockLength(c, timeSize)) return null;
  const transitions = new Float64Array(c.time);
  for (let i = 0; i < c.time; i++) {
    const o = at + i * timeSize;
    transitions[i] = timeSize === 8 ? Number(view.getBigInt64(o)) : view.getInt32(o);
  }
  const idxAt = at + c.time * timeSize;
  const typesAt = idxAt + c.time;
  const typeOffset = (t: number): number => view.getInt32(typesAt + 6 * t);
  const offsets = new Int32Array(c.time);
  for (let i = 0; i < c.time; i++) {
    const t = bytes[idxAt + i] ?? 0;
    if (t >= c.type) return null;
    offsets[i] = typeOffset(t);
  }
  let footer: PosixRule | null = null;
  if (timeSize === 8) {
    const rest = bytes.subarray(at + blockLength(c, 8));
    const text = String.fromCharCode(...rest);
    const m = /^\n([^\n]*)\n/.exec(text);
    if (m?.[1]) {
      footer = parsePosixTz(m[1]);
      if (!footer) return null;
    }
  }
  return { transitions, offsets, initialOffset: typeOffset(0), footer };
}

/** `[+-]hh[:mm[:ss]]` as seconds; hours up to 167 (RFC 8536's extension). */
function parseClock(s: string): number | null {
  const m = /^([+-]?)(\d{1,3})(?::(\d{2}))?(?::(\d{2}))?$/.exec(s);
  if (!m) return null;
  const h = Number(m[2]);
  if (h > 167) return null;
  const secs = h * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -secs : secs;
}

function parseRuleDate(s: string): RuleDate | null {
  const m = /^M(\d{1,2})\.(\d)\.(\d)(?:\/(.+))?$/.exec(s);
  if (!m) return null;
  const month = Number(m[1]);
  const week = Number(m[2]);
  const weekday = Number(m[3]);
  const time = m[4] === undefined ? 7200 : parseClock(m[4]);
  if (month < 1 || month > 12 || week < 1 || week > 5 || weekday > 6 || time === null) return null;
  return { month, week, weekday, time };
}

const NAME = '([A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)';
const OFFSET = '([+-]?\\d{1,3}(?::\\d{2}){0,2})';
const TZ_RE = new RegExp(`^${NAME}${OFFSET}(?:${NAME}${OFFSET}?(?:,([^,]+),([^,]+))?)?$`);

/**
 * Parses a POSIX TZ rule (`EST5EDT,M3.2.0,M11.1.0`, `<-03>3`, `IST-2IDT,M3.4.4/26,M10.5.0`). POSIX offsets
 * count west of Greenwich; the result counts east (as TZif does). Null for anything else, including
 * `Jn` and `n` dates and a daylight zone without its rule.
 */
export function parsePosixTz(tz: string): PosixRule | null {
  const m = TZ_RE.exec(tz);
  const std = m?.[2] === undefined ? null : parseClock(m[2]);
  if (!m || std === null) return null;
  const stdOffset = -std;
  if (m[3] === undefined) return { stdOffset, dstOffset: null };
  const dst = m[4] === undefined ? std - 3600 : parseClock(m[4]);
  if (dst === null || m[5] === undefined || m[6] === undefined) return null;
  const start = parseRuleDate(m[5]);
  const end = parseRuleDate(m[6]);
  if (!start || !end) return null;
  return { stdOffset, dstOffset: -dst, start, end };
}

/** Seconds since the epoch of a rule's date in `year`, at its local time, as UTC (before any offset). */
function ruleLocalSeconds(year: number, r: RuleDate): number {
  const first = new Date(Date.UTC(year, r.month - 1, 1)).getUTCDay();
  let day = 1 + ((r.weekday - first + 7) % 7) + 7 * (r.week - 1);
  const inMonth = new Date(Date.UTC(year, r.month, 0)).getUTCDate();
  while (day > inMonth) day -= 7;
  return Date.UTC(year, r.month - 1, day) / 1000 + r.time;
}

/** The UTC offset (seconds) a POSIX rule gives at `t` (seconds since the epoch). */
export function ruleOffsetAt(rule: PosixRule, t: number): number {
  const { stdOffset, dstOffset, start, end } = rule;
  if (dstOffset === null || !start || !end) return stdOffset;
  const year = new Date((t + stdOffset) * 1000).getUTCFullYear();
  // The change to daylight time happens at the rule's time in standard time, the change back in daylight.
  const on = ruleLocalSeconds(year, start) - stdOffset;
  const off = ruleLocalSeconds(year, end) - dstOffset;
  const inDst = on < off ? t >= on && t < off : t >= on || t < off;
  return inDst ? dstOffset : stdOffset;
}

/** The UTC offset (seconds, east positive) the zone's rules give at `t` (seconds since the epoch). */
export function offsetAt(zone: ZoneRules, t: number): number {
  const tr = zone.transitions;
  const n = tr.length;
  if (n === 0 || t < (tr[0] as number)) {
    return n === 0 && zone.footer ? ruleOffsetAt(zone.footer, t) : zone.initialOffset;
  }
  if (t >= (tr[n - 1] as number) && zone.footer) return ruleOffsetAt(zone.footer, t);
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((tr[mid] as number) <= t) lo = mid;
    else hi = mid - 1;
  }
  return zone.offsets[lo] as number;
}
