import { existsSync, readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { niceSelf } from '../../bench/nice-self.js';

const tids = (): number[] => readdirSync('/proc/self/task').map(Number);

describe.skipIf(!existsSync('/proc/self/task'))("the benchmark's own threads lowered for a run", () => {
  it('sets every thread of the process to the nice value, and puts each back', () => {
    const before = new Map(tids().map((t) => [t, getPriority(t)]));
    const target = Math.min(19, Math.max(...before.values()) + 3);
    const lowered = niceSelf(target);
    expect(lowered.refused).toBeNull();
    for (const t of tids()) if (before.has(t)) expect(getPriority(t)).toBe(target);
    const refused = lowered.restore();
    // Raising a priority again needs privilege: where it is refused, restore says so.
    if (refused === null) {
      for (const [t, p] of before) if (tids().includes(t)) expect(getPriority(t)).toBe(p);
    } else {
      expect(refused).toMatch(/permission|EACCES|EPERM/i);
    }
  });
});
