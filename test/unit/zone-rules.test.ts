/**
 * Zone rules from TZif files (src/domain/zone-rules.ts), checked against ICU's answer (`Intl`), which
 * reads its own copy of the tz database: the system's files for New York and zones whose rules differ
 * (southern hemisphere, a rule past 24:00, no daylight time), each instant from 1970 to 2045 and the
 * footer's rule to 2100; then the parser's refusals on files built here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { offsetAt, parsePosixTz, parseTzif, ruleOffsetAt } from '../../src/domain/zone-rules.js';
import { loadMarketZone, nyDateTime, settlementInstant } from '../../src/domain/market-time.js';

const ZONEINFO = '/usr/share/zoneinfo';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** ICU's UTC offset (seconds) of `zone` at `ms`. */
function icuOffset(zone: string, ms: number): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  const asUtc = Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day, p.hour, p.minute, p.second);
  return (asUtc - Math.floor(ms / 1000) * 1000) / 1000;
}

describe('parsePosixTz', () => {
  it.each<[string, ReturnType<typeof parsePosixTz>]>([
    [
      'EST5EDT,M3.2.0,M11.1.0',
      {
        stdOffset: -18_000,
        dstOffset: -14_400,
        start: { month: 3, week: 2, weekday: 0, time: 7200 },
        end: { month: 11, week: 1, weekday: 0, time: 7200 },
      },
    ],
    [
      'CET-1CEST,M3.5.0,M10.5.0/3',
      {
        stdOffset: 3600,
        dstOffset: 7200,
        start: { month: 3, week: 5, weekday: 0, time: 7200 },
        end: { month: 10, week: 5, weekday: 0, time: 10_800 },
      },
    ],
    [
      'IST-2IDT,M3.4.4/26,M10.5.0',
      {
        stdOffset: 7200,
        dstOffset: 10_800,
        start: { month: 3, week: 4, weekday: 4, time: 93_600 },
        end: { month: 10, week: 5, weekday: 0, time: 7200 },
      },
    ],
    ['<-03>3', { stdOffset: -10_800, dstOffset: null }],
    ['IST-5:30', { stdOffset: 19_800, dstOffset: null }],
    [
      '<+1030>-10:30<+11>-11,M10.1.0,M4.1.0',
      {
        stdOffset: 37_800,
        dstOffset: 39_600,
        start: { month: 10, week: 1, weekday: 0, time: 7200 },
        end: { month: 4, week: 1, weekday: 0, time: 7200 },
      },
    ],
    ['EST5EDT,J60,J300', null], // Julian days: not read (ICU answers instead)
    ['EST5EDT', null], // daylight time without its rule
    ['EST5EDT,M13.1.0,M11.1.0', null],
    ['5EDT', null],
    ['', null],
  ])('%s', (tz, expected) => {
    expect(parsePosixTz(tz)).toEqual(expected);
  });
});

describe('ruleOffsetAt (New York after the last transition)', () => {
  const ny = parsePosixTz('EST5EDT,M3.2.0,M11.1.0');
  it.each<[string, string, number]>([
    // 2040: daylight time from Sunday March 11 02:00 EST (07:00 UTC) to Sunday November 4 02:00 EDT
    ['the second before spring forward', '2040-03-11T06:59:59Z', -18_000],
    ['spring forward', '2040-03-11T07:00:00Z', -14_400],
    ['the second before fall back', '2040-11-04T05:59:59Z', -14_400],
    ['fall back', '2040-11-04T06:00:00Z', -18_000],
    ['new year', '2041-01-01T03:00:00Z', -18_000],
  ])('%s (%s)', (_, iso, offset) => {
    expect(ny).not.toBeNull();
    expect(ruleOffsetAt(ny!, Date.parse(iso) / 1000)).toBe(offset);
  });
});

const ZONES = [
  'America/New_York',
  'Europe/Berlin',
  'Australia/Sydney',
  'Asia/Jerusalem',
  'America/Sao_Paulo',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
];

describe.skipIf(!existsSync(`${ZONEINFO}/America/New_York`))('parseTzif on the system zoneinfo', () => {
  it.each(ZONES)('%s gives ICU’s offsets every 11 hours 1970–2045 and at every transition', (name) => {
    const zone = parseTzif(readFileSync(`${ZONEINFO}/${name}`));
    expect(zone).not.toBeNull();
    const mismatches: string[] = [];
    const check = (t: number): void => {
      const ours = offsetAt(zone!, t);
      const icu = icuOffset(name, t * 1000);
      if (ours !== icu) mismatches.push(`${new Date(t * 1000).toISOString()}: ${ours} ≠ ${icu}`);
    };
    for (let t = Date.UTC(1970, 0, 1) / 1000; t < Date.UTC(2045, 0, 1) / 1000; t += 11 * 3600) check(t);
    for (const t of zone!.transitions)
      if (t > 0 && t < Date.UTC(2100, 0, 1) / 1000) [t - 1, t].forEach(check);
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it.each(ZONES)('%s: its footer rule gives ICU’s offsets, 2038–2100, daily and at each change', (name) => {
    const zone = parseTzif(readFileSync(`${ZONEINFO}/${name}`));
    const mismatches: string[] = [];
    let prev = NaN;
    for (let t = Date.UTC(2038, 0, 1) / 1000; t < Date.UTC(2100, 0, 1) / 1000; t += 3600) {
      const ours = offsetAt(zone!, t);
      // Daily, plus the hour on either side of each change of offset.
      if (t % 86_400 === 0 || ours !== prev) {
        for (const u of [t - 3600, t]) {
          const icu = icuOffset(name, u * 1000);
          if (offsetAt(zone!, u) !== icu) mismatches.push(`${new Date(u * 1000).toISOString()}: ≠ ${icu}`);
        }
      }
      prev = ours;
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});

/** A TZif file: version `v`, one transition at `at` from type 0 (`from`) to type 1 (`to`), then `footer`. */
function tzif(v: string, at: number, from: number, to: number, footer: string, leap = 0): Uint8Array {
  const header = (timeSize: number): Buffer => {
    const h = Buffer.alloc(44);
    h.write('TZif', 0, 'latin1');
    h.write(v, 4, 'latin1');
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    [0, 0, leap, 1, 2, 4].forEach((n, i) => h.writeUInt32BE(n, 20 + 4 * i));
    return Buffer.concat([h, block(timeSize)]);
  };
  const block = (timeSize: number): Buffer => {
    const b = Buffer.alloc(timeSize + 1 + 12 + 4 + leap * (timeSize + 4));
    if (timeSize === 8) b.writeBigInt64BE(BigInt(at), 0);
    else b.writeInt32BE(at, 0);
    b.writeUInt8(1, timeSize);
    b.writeInt32BE(from, timeSize + 1);
    b.writeInt32BE(to, timeSize + 7);
    b.write('AAA\0', timeSize + 13, 'latin1');
    return b;
  };
  if (v === '\0') return header(4);
  return Buffer.concat([header(4), header(8), Buffer.from(`\n${footer}\n`, 'latin1')]);
}

describe('parseTzif on files built here', () => {
  it('reads a version 2 file: the first type before the transition, then the footer after it', () => {
    const zone = parseTzif(tzif('2', 1_000_000, -18_000, -14_400, 'EST5EDT,M3.2.0,M11.1.0'));
    expect(zone).not.toBeNull();
    expect(offsetAt(zone!, 999_999)).toBe(-18_000);
    // After the only transition the footer decides: July 2040 is daylight time, January 2041 is not.
    expect(offsetAt(zone!, Date.UTC(2040, 6, 1) / 1000)).toBe(-14_400);
    expect(offsetAt(zone!, Date.UTC(2041, 0, 1) / 1000)).toBe(-18_000);
  });

  it('reads a version 1 file: the last transition holds (no footer)', () => {
    const zone = parseTzif(tzif('\0', 1_000_000, 3600, 7200, ''));
    expect(zone?.footer).toBeNull();
    expect(offsetAt(zone!, 999_999)).toBe(3600);
    expect(offsetAt(zone!, 2_000_000_000)).toBe(7200);
  });

  it.each<[string, Uint8Array]>([
    ['not TZif', Buffer.from('TZjf' + '\0'.repeat(60), 'latin1')],
    ['truncated', tzif('2', 1_000_000, 0, 3600, 'UTC0').subarray(0, 70)],
    ['leap seconds (a right/ zone)', tzif('2', 1_000_000, 0, 3600, 'UTC0', 1)],
    ['a footer this reader does not read', tzif('2', 1_000_000, 0, 3600, 'EST5EDT,J60,J300')],
  ])('refuses %s (null: ICU answers)', (_, bytes) => {
    expect(parseTzif(bytes)).toBeNull();
  });
});

describe.skipIf(!existsSync(`${ZONEINFO}/America/New_York`))('market time without ICU', () => {
  it('reads New York from the system and never builds an Intl.DateTimeFormat', () => {
    // The formatting itself first: the constructor's spy replaces `Intl.DateTimeFormat`.
    const parts = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    const spy = vi.spyOn(Intl, 'DateTimeFormat');
    try {
      expect(nyDateTime(Date.parse('2026-03-08T07:00:00Z'))).toBe('2026-03-08 03:00');
      expect(nyDateTime(Date.parse('2026-11-01T05:59:59Z'))).toBe('2026-11-01 01:59');
      expect(nyDateTime(Date.parse('2026-11-01T06:00:00Z'))).toBe('2026-11-01 01:00');
      expect(settlementInstant('2031-06-20', 'SPXW')).toBe(Date.UTC(2031, 5, 20, 20, 0));
      expect(spy).not.toHaveBeenCalled();
      expect(parts).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      parts.mockRestore();
    }
  });

  it('finds no zone where no directory has one (ICU then answers)', () => {
    expect(loadMarketZone(['/nonexistent-zoneinfo'])).toBeNull();
    expect(loadMarketZone(['/nonexistent-zoneinfo', ZONEINFO])?.transitions.length).toBeGreaterThan(200);
  });
});
