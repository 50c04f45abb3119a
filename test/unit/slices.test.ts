/**
 * Work in bounded slices (lib/slices.ts): {@link copyInSlices} gives the bytes of a one-piece copy, in a
 * buffer of its own, for sizes around the slice boundaries, and gives the event loop a turn between slices.
 */
import { describe, expect, it } from 'vitest';
import { copyInSlices, inSlices, nextTurn, TURN_BUDGET_MS } from '../../src/lib/slices.js';
import { turnCounter, turnsDuring } from '../support/turns.js';

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

/** Keeps the thread busy for `ms` (a slice's work). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('nextTurn: the loops in flight share one budget per turn', () => {
  it('runs slices of several loops in one turn only until the budget is spent', async () => {
    const counter = turnCounter();
    const turnOf: number[][] = [[], [], [], [], [], []];
    const sliceMs = TURN_BUDGET_MS / 2;
    await Promise.all(
      turnOf.map((turns) =>
        inSlices(
          8,
          () => {
            turns.push(counter.turns);
            busy(sliceMs);
          },
          1,
        ),
      ),
    );
    counter.stop();
    const perTurn = new Map<number, number>();
    for (const t of turnOf.flat()) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    // Six loops of 8 slices: with one immediate each, every turn ran six slices (the first in the
    // caller's turn). Now a
    // turn starts slices until TURN_BUDGET_MS has gone: two of half the budget, and a third only if the
    // clock read between them lagged.
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(3);
    // Each loop got every slice, one per turn at most.
    for (const turns of turnOf) {
      expect(turns).toHaveLength(8);
      expect(new Set(turns).size).toBe(8);
    }
  });

  it('wakes the loops that waited longest first', async () => {
    const order: string[] = [];
    const loop = async (name: string): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await nextTurn();
        order.push(`${name}${String(i)}`);
        busy(TURN_BUDGET_MS * 1.5); // one slice spends a turn's budget: the next loop waits a turn
      }
    };
    await Promise.all([loop('a'), loop('b'), loop('c')]);
    // One slice per turn, round robin: a loop deferred by the budget goes before those that ran.
    expect(order).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
  });

  it('resolves even with nothing else to run (a lone waiter)', async () => {
    const counter = turnCounter();
    const before = counter.turns;
    await nextTurn();
    const after = counter.turns;
    counter.stop();
    // It waited for the check phase of the loop: the counter's immediate, queued first, ran before it.
    expect(after).toBe(before + 1);
  });
});
