/** @module The small pure pieces behind the models: rounding, GEX per contract, walls, root finding. */
import { describe, expect, it } from 'vitest';
import { contractGex, findRoots, gexWalls, nearestRoot, profileLevels } from '../../src/models/gex/index.js';
import { cents, isoTime, level, roundTo, usableSpot } from '../../src/models/json-safe.js';
import { strikeWindow, inWindow } from '../../src/models/heatmap/index.js';
import type { GexStrikeRow } from '../../src/models/types.js';

describe('json-safe rounding', () => {
  it.each([
    [2.345, 2, 2.35],
    [1.005, 2, 1.01],
    [-2.345, 2, -2.35],
    [-0.001, 2, 0],
    [1234567890.125, 2, 1234567890.13],
    [6852.4999, 2, 6852.5],
    [Number.NaN, 2, 0],
    [Number.POSITIVE_INFINITY, 2, 0],
  ])('roundTo(%s, %s) = %s', (x, d, expected) => {
    expect(Object.is(roundTo(x, d), expected)).toBe(true);
  });

  it.each([
    [0.1 + 0.2, 0.3],
    [Number.NaN, 0],
    [Number.NEGATIVE_INFINITY, 0],
  ])('cents(%s) = %s', (x, expected) => expect(cents(x)).toBe(expected));

  it.each([
    [6852.5, 6852.5],
    [null, null],
    [undefined, null],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
  ])('level(%s) = %s', (x, expected) => expect(level(x)).toBe(expected));

  it.each([
    [6900, 6900],
    [null, null],
    [0, null],
    [-1, null],
    [Number.NaN, null],
  ])('usableSpot(%s) = %s', (x, expected) => expect(usableSpot(x)).toBe(expected));

  it.each([
    [0, '1970-01-01T00:00:00.000Z'],
    [Number.NaN, null],
    [1e16, null],
  ])('isoTime(%s) = %s', (x, expected) => expect(isoTime(x)).toBe(expected));
});

describe('GEX pieces', () => {
  it.each([
    ['a call', 1, 0.002, 1000, 6900, 95_220_000],
    ['a put', -1, 0.002, 1000, 6900, -95_220_000],
    ['zero OI', 1, 0.002, 0, 6900, 0],
  ] as const)('contractGex: %s', (_name, sign, gamma, oi, spot, expected) => {
    expect(contractGex(sign, gamma, oi, spot)).toBeCloseTo(expected, 4);
  });

  const row = (strike: number, call: number, put: number): GexStrikeRow => ({
    strike,
    call,
    put,
    net: call + put,
    vanna: 0,
    charm: 0,
  });

  it.each<[string, GexStrikeRow[], number, ReturnType<typeof gexWalls>]>([
    [
      'distinct maxima',
      [row(6800, 5, -9), row(6900, 7, -1)],
      6850,
      { call_wall: 6900, put_wall: 6800, abs_gamma_strike: 6800 },
    ],
    [
      'ties at equal cents go to the strike nearest spot',
      [row(6800, 7, -3), row(6880, 7.001, -3), row(7000, 2, -8)],
      6900,
      { call_wall: 6880, put_wall: 7000, abs_gamma_strike: 6880 },
    ],
    [
      'ties equally far from spot go to the lower strike',
      [row(6800, 7, -7), row(7000, 7, -7)],
      6900,
      { call_wall: 6800, put_wall: 6800, abs_gamma_strike: 6800 },
    ],
    [
      'nothing positive: no walls',
      [row(6800, 0, 0)],
      6900,
      { call_wall: null, put_wall: null, abs_gamma_strike: null },
    ],
    ['no rows', [], 6900, { call_wall: null, put_wall: null, abs_gamma_strike: null }],
  ])('gexWalls: %s', (_name, rows, spot, expected) => {
    expect(gexWalls(rows, spot)).toEqual(expected);
  });

  const grid = (lo: number, hi: number, n: number): number[] =>
    Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

  it.each<[string, (x: number) => number, number[], number[]]>([
    ['one root', (x) => x - 3.3333, grid(0, 10, 11), [3.3333]],
    ['two roots', (x) => (x - 2.5) * (x - 7.25), grid(0, 10, 11), [2.5, 7.25]],
    ['a root on a grid point', (x) => x - 4, grid(0, 10, 11), [4]],
    ['no sign change', (x) => 1 + x * x, grid(0, 10, 11), []],
    ['identically zero', () => 0, grid(0, 10, 11), []],
    ['zero stretch between opposite signs', (x) => (x < 3 ? -1 : x > 6 ? 1 : 0), grid(0, 10, 11), [4.5]],
  ])('findRoots: %s', (_name, f, levels, expected) => {
    const roots = findRoots(f, levels, levels.map(f));
    expect(roots).toHaveLength(expected.length);
    roots.forEach((r, i) => expect(Math.abs(r - expected[i]!)).toBeLessThanOrEqual(0.005));
  });

  it.each<[number[], number, number | null]>([
    [[6700, 6880, 7000], 6900, 6880],
    [[6850, 6950], 6900, 6850],
    [[], 6900, null],
  ])('nearestRoot(%j, %s) = %s', (roots, spot, expected) => {
    expect(nearestRoot(roots, spot)).toBe(expected);
  });

  it('profileLevels spans [0.8 S, 1.2 S] evenly, both ends exact', () => {
    expect(profileLevels(100, 5)).toEqual([80, 90, 100, 110, 120]);
    const levels = profileLevels(6900);
    expect(levels[0]).toBe(5520);
    expect(levels.at(-1)).toBe(8280);
  });
});

describe('heatmap window', () => {
  it.each([
    [6555, true],
    [7245, true],
    [6554.99, false],
    [7245.01, false],
  ])('strike %s inside the 5%% window of 6900: %s', (strike, expected) => {
    expect(inWindow(strikeWindow(6900, 5), strike)).toBe(expected);
  });

  it('has no window at 0%', () => {
    expect(strikeWindow(6900, 0)).toBeNull();
    expect(inWindow(null, 1)).toBe(true);
  });
});
