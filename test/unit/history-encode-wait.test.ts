/**
 * How long a version waits for the process's cycles and builds in flight: the bound, or not at all once the
 * versions waiting hold half the history's cap (so the gate never makes the history drop versions).
 */
import { describe, expect, it } from 'vitest';
import { ENCODE_WAIT_MS, MAX_PENDING_BYTES, encodeWaitMs } from '../../src/outputs/history/recorder.js';

describe('encodeWaitMs', () => {
  it.each([
    { pending: 0, wait: 3_000 },
    { pending: 15 * 1024 * 1024, wait: 3_000 },
    { pending: 32 * 1024 * 1024, wait: 3_000 },
    { pending: 32 * 1024 * 1024 + 1, wait: 0 },
    { pending: 64 * 1024 * 1024, wait: 0 },
  ])('$pending bytes waiting: $wait ms', ({ pending, wait }) => {
    expect(MAX_PENDING_BYTES).toBe(64 * 1024 * 1024);
    expect(ENCODE_WAIT_MS).toBe(3_000);
    expect(encodeWaitMs(pending)).toBe(wait);
  });
});
