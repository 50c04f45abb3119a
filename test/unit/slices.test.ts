/**
 * Work in bounded slices (lib/slices.ts): {@link copyInSlices} gives the bytes of a one-piece copy, in a
 * buffer of its own, for sizes around the slice boundaries, and gives the event loop a turn between slices.
 */
import { describe, expect, it } from 'vitest';
import { copyInSlices, inSlices } from '../../src/lib/slices.js';
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
