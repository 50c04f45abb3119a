/**
 * Work in bounded slices (lib/slices.ts): {@link copyInSlices} gives the bytes of a one-piece copy, in a
 * buffer of its own, for sizes around the slice boundaries, and gives the event loop a turn between slices.
 */
import { describe, expect, it } from 'vitest';
import { copyInSlices, everyInSlices, inSlices, mapInSlices } from '../../src/lib/slices.js';
import { turnsDuring } from '../support/turns.js';

const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % 256);

describe('copyInSlices', () => {
  it.each([0, 1, 255, 256, 257, 1_000, 4_096])('%i bytes: the same bytes as one copy', async (n) => {
    const src = bytes(n);
    const copy = await copyInSlices(src, 256);
    expect(copy).toEqual(new Uint8Array(src));
    expect(copy.byteLength).toBe(n);
  });

  it('copies a view at its offset, into a buffer of its own', async () => {
    const whole = bytes(3_000);
    const view = whole.subarray(1_000, 2_500);
    const copy = await copyInSlices(view, 100);
    expect(copy).toEqual(whole.slice(1_000, 2_500));
    expect(copy.buffer).not.toBe(whole.buffer);
    expect(copy.byteOffset).toBe(0);
    expect(copy.buffer.byteLength).toBe(1_500);
    // Writing one does not touch the other.
    copy[0] = (copy[0] as number) ^ 0xff;
    expect(view[0]).toBe(whole[1_000]);
  });

  it('gives the event loop a turn between slices', async () => {
    const src = bytes(10 * 256);
    // Ten slices: the other callback runs between each two.
    expect(await turnsDuring(() => copyInSlices(src, 256))).toBeGreaterThanOrEqual(9);
  });
});

describe('inSlices', () => {
  it('covers 0..length in order, each slice at most `size`', async () => {
    const seen: [number, number][] = [];
    await inSlices(10, (s, e) => seen.push([s, e]), 4);
    expect(seen).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
  });
});

describe('mapInSlices and everyInSlices', () => {
  const items = Array.from({ length: 25 }, (_, i) => i);

  it.each([0, 1, 4, 25, 100])('map, slices of %i: what Array.map gives', async (size) => {
    expect(await mapInSlices(items, (x) => x * x, Math.max(1, size))).toEqual(items.map((x) => x * x));
  });

  it.each([
    { name: 'all pass', fn: (x: number) => x < 100, out: true, calls: 25 },
    { name: 'the first fails: stops there', fn: (x: number) => x > 0, out: false, calls: 1 },
    { name: 'one in the third slice fails: stops there', fn: (x: number) => x !== 12, out: false, calls: 13 },
  ])('every: $name', async (c) => {
    let calls = 0;
    const out = await everyInSlices(
      items,
      (x) => {
        calls++;
        return c.fn(x);
      },
      5,
    );
    expect(out).toBe(c.out);
    expect(calls).toBe(c.calls);
    expect(await everyInSlices([], () => false)).toBe(true);
  });

  it('give the event loop a turn between slices', async () => {
    expect(await turnsDuring(() => mapInSlices(items, (x) => x, 5))).toBeGreaterThanOrEqual(4);
    expect(await turnsDuring(() => everyInSlices(items, () => true, 5))).toBeGreaterThanOrEqual(4);
  });
});
