/**
 * QuietGate: work waits while anything is held, at most its bound; holds release once each.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { QuietGate } from '../../src/lib/quiet-gate.js';

/** 'settled' once `p` has settled after the pending timers and microtasks ran, else 'pending'. */
async function state(p: Promise<unknown>): Promise<'settled' | 'pending'> {
  let settled = false;
  void p.then(() => {
    settled = true;
  });
  await vi.advanceTimersByTimeAsync(0);
  return settled ? 'settled' : 'pending';
}

describe('QuietGate', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    { holds: 0, release: 0, after: 'settled' },
    { holds: 1, release: 0, after: 'pending' },
    { holds: 1, release: 1, after: 'settled' },
    { holds: 2, release: 1, after: 'pending' },
    { holds: 2, release: 2, after: 'settled' },
  ] as const)('$holds held, $release released: the wait is $after', async ({ holds, release, after }) => {
    vi.useFakeTimers();
    const gate = new QuietGate();
    const releases = Array.from({ length: holds }, () => gate.hold());
    const wait = gate.whenQuiet(60_000);
    for (const r of releases.slice(0, release)) r();
    expect(await state(wait)).toBe(after);
    expect(gate.quiet).toBe(after === 'settled');
  });

  it('a release called twice counts once', async () => {
    vi.useFakeTimers();
    const gate = new QuietGate();
    const a = gate.hold();
    gate.hold();
    a();
    a();
    expect(gate.quiet).toBe(false);
    expect(await state(gate.whenQuiet(60_000))).toBe('pending');
  });

  it('resolves after its bound while still held, and not before', async () => {
    vi.useFakeTimers();
    const gate = new QuietGate();
    gate.hold();
    const wait = gate.whenQuiet(3_000);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(await state(wait)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await state(wait)).toBe('settled');
    expect(gate.quiet).toBe(false);
  });

  it('every waiter goes on at the last release; a later hold does not stop them', async () => {
    vi.useFakeTimers();
    const gate = new QuietGate();
    const release = gate.hold();
    const waits = [gate.whenQuiet(60_000), gate.whenQuiet(60_000)];
    release();
    gate.hold();
    expect(await Promise.all(waits.map(state))).toEqual(['settled', 'settled']);
  });

  it('an abort ends the wait while still held; an aborted signal never waits', async () => {
    vi.useFakeTimers();
    const gate = new QuietGate();
    gate.hold();
    const stop = new AbortController();
    const wait = gate.whenQuiet(60_000, stop.signal);
    expect(await state(wait)).toBe('pending');
    stop.abort();
    expect(await state(wait)).toBe('settled');
    expect(await state(gate.whenQuiet(60_000, stop.signal))).toBe('settled');
    expect(gate.quiet).toBe(false);
  });

  it('a bound of 0 never waits', async () => {
    vi.useFakeTimers();
    const gate = new QuietGate();
    gate.hold();
    expect(await state(gate.whenQuiet(0))).toBe('settled');
  });
});
