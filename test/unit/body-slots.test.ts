/** Body slots: sizes by power of two, reuse after release, the cap, and which buffers are theirs. */
import { describe, expect, it } from 'vitest';
import { BodySlots, slotSize } from '../../src/provider/massive/body-slots.js';

const KiB = 1024;

describe('slotSize', () => {
  it.each([
    [0, 64 * KiB],
    [1, 64 * KiB],
    [64 * KiB, 64 * KiB],
    [64 * KiB + 1, 128 * KiB],
    [166_000, 256 * KiB],
    [4 * 1024 * KiB, 4 * 1024 * KiB],
    [4 * 1024 * KiB + 1, null],
    [-1, null],
    [1.5, null],
  ])('%d bytes → %s', (length, size) => {
    expect(slotSize(length)).toBe(size);
  });
});

describe('BodySlots', () => {
  it('lends a view of exactly the length asked for, over shared memory of the slot size', () => {
    const slots = new BodySlots();
    const lease = slots.lease(100_000);
    expect(lease?.bytes.length).toBe(100_000);
    expect(lease?.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(lease?.bytes.buffer.byteLength).toBe(128 * KiB);
    expect(slots.allocatedBytes).toBe(128 * KiB);
    expect(slots.leased).toBe(1);
  });

  it('reuses a released slot of the same size, and makes a new one while it is on loan', () => {
    const slots = new BodySlots();
    const a = slots.lease(70_000);
    const b = slots.lease(70_000);
    expect(b?.bytes.buffer).not.toBe(a?.bytes.buffer);
    a?.release();
    a?.release(); // idempotent: the slot is free once, not twice
    const c = slots.lease(100_000);
    const d = slots.lease(100_000);
    expect(c?.bytes.buffer).toBe(a?.bytes.buffer);
    expect(d?.bytes.buffer).not.toBe(a?.bytes.buffer);
    expect(slots.allocatedBytes).toBe(3 * 128 * KiB);
    expect(slots.leased).toBe(3);
  });

  it('lends nothing beyond its cap, or for a body larger than the largest slot', () => {
    const slots = new BodySlots(256 * KiB);
    expect(slots.lease(200_000)).not.toBeNull();
    expect(slots.lease(10)).toBeNull(); // 256 KiB + 64 KiB would pass the cap
    expect(new BodySlots().lease(5 * 1024 * KiB)).toBeNull();
  });

  it('knows its own views (from the start of a slot) and nothing else', () => {
    const slots = new BodySlots();
    const lease = slots.lease(1000);
    if (!lease) throw new Error('no lease');
    expect(slots.slotOf(lease.bytes)?.index).toBe(0);
    expect(slots.slotOf(lease.bytes.subarray(1))).toBeUndefined();
    expect(slots.slotOf(Buffer.alloc(1000))).toBeUndefined();
    expect(slots.slotOf(Buffer.from(new SharedArrayBuffer(1000)))).toBeUndefined();
    expect(new BodySlots().slotOf(lease.bytes)).toBeUndefined();
  });
});
