/**
 * The history series, pure parts: the values a GEX model gives a row, the `fields` list, the downsampling
 * rule, and the ISO instants the API accepts.
 */
import { describe, expect, it } from 'vitest';
import { parseIsoInstant } from '../../src/lib/time.js';
import {
  DEFAULT_HISTORY_FIELDS,
  HISTORY_FIELDS,
  autoStepSec,
  downsample,
  parseFields,
  valuesOfGex,
} from '../../src/outputs/history/rows.js';

describe('valuesOfGex', () => {
  it('takes each field from where the GEX model publishes it', () => {
    const doc = {
      spot: 6850.25,
      stale: false,
      levels: { zero_gamma: 6840, call_wall: 6900, put_wall: 6800, abs_gamma_strike: 6850 },
      totals: { net: 1.5e9, calls: 2e9, puts: -5e8, vanna: 3e7, charm: -2e6, delta: 4e10 },
      horizons: { '0dte': { share: 0.42, levels: { zero_gamma: 6845, call_wall: 6875, put_wall: 6825 } } },
      by_basis: { volume: { totals: { net: 7e8 }, levels: { zero_gamma: 6830 } } },
    };
    expect(valuesOfGex(doc)).toEqual({
      spot: 6850.25,
      zero_gamma: 6840,
      call_wall: 6900,
      put_wall: 6800,
      abs_gamma_strike: 6850,
      net: 1.5e9,
      calls: 2e9,
      puts: -5e8,
      vanna: 3e7,
      charm: -2e6,
      delta: 4e10,
      zero_gamma_0dte: 6845,
      call_wall_0dte: 6875,
      put_wall_0dte: 6825,
      share_0dte: 0.42,
      volume_net: 7e8,
      volume_zero_gamma: 6830,
      stale: false,
    });
  });

  it.each<[string, unknown]>([
    ['an empty object', {}],
    ['null', null],
    ['an array', []],
    ['strings where numbers belong', { spot: '6850', levels: { zero_gamma: 'x' }, totals: 'no' }],
  ])('%s gives nulls, never a throw', (_, doc) => {
    const v = valuesOfGex(doc);
    expect(Object.keys(v)).toEqual([...HISTORY_FIELDS]);
    expect(Object.values(v).every((x) => x === null)).toBe(true);
  });
});

describe('parseFields', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, [...DEFAULT_HISTORY_FIELDS]],
    ['', [...DEFAULT_HISTORY_FIELDS]],
    ['spot', ['spot']],
    ['net, spot ,spot', ['net', 'spot']],
    ['zero_gamma_0dte,volume_net,', ['zero_gamma_0dte', 'volume_net']],
  ])('%j → %j', (input, out) => {
    expect(parseFields(input)).toEqual(out);
  });

  it('an unknown field is an error naming it and the allowed ones', () => {
    expect(() => parseFields('spot,gamma')).toThrow(/unknown field "gamma".*spot, zero_gamma/);
  });
});

describe('downsampling', () => {
  const v = (sec: number) => ({ tsMs: 1_000_000 + sec * 1000, row: sec });

  it.each<[number, number[], number[]]>([
    [0, [0, 1, 2, 3], [0, 1, 2, 3]],
    [10, [0, 5, 9, 10, 15, 31], [9, 15, 31]],
    [30, [0, 29.999, 30, 59, 60], [29.999, 59, 60]],
  ])('step %i: %j → the last of each bucket %j', (step, secs, kept) => {
    expect(downsample(secs.map(v), 1_000_000, step).map((x) => x.row)).toEqual(kept);
  });

  it.each<[number, number, number, number]>([
    [5000, 0, 86_400_000, 0],
    [5001, 0, 86_400_000, 18],
    [10_000, 0, 1_000_000, 1],
    [200, 0, 86_400_000, 0],
  ])('%i versions over [%i, %i] ms: step %i s', (count, from, to, step) => {
    expect(autoStepSec(count, from, to)).toBe(step);
  });
});

describe('parseIsoInstant', () => {
  it.each<[string, number | null]>([
    ['2026-01-07T15:30:00Z', Date.UTC(2026, 0, 7, 15, 30)],
    ['2026-01-07T15:30:00.123Z', Date.UTC(2026, 0, 7, 15, 30, 0, 123)],
    ['2026-01-07T10:30:00-05:00', Date.UTC(2026, 0, 7, 15, 30)],
    ['2026-01-07T15:30Z', Date.UTC(2026, 0, 7, 15, 30)],
    [' 2026-01-07T15:30:00+01:00 ', Date.UTC(2026, 0, 7, 14, 30)],
    ['2026-01-07', null],
    ['2026-01-07T15:30:00', null],
    ['2026-02-30T10:00:00Z', null],
    ['1767800000', null],
    ['yesterday', null],
    ['', null],
  ])('%j → %s', (input, ms) => {
    expect(parseIsoInstant(input)).toBe(ms);
  });
});
