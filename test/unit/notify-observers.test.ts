/**
 * Cycle observers are told beside each other (their I/O overlaps), each starting on a turn of the event loop
 * of its own, so their synchronous parts (MarketSwarm's choice over 20,000 contracts, the events' level
 * check) are never summed into one turn; one that throws is logged and the others go on.
 */
import { describe, expect, it } from 'vitest';
import {
  notifyCycleObservers,
  type CycleObserver,
  type SnapshotApplied,
} from '../../src/outputs/observers.js';

const event = { symbol: 'I:SPX' } as SnapshotApplied;

describe('notifyCycleObservers', () => {
  it('starts each observer on its own turn, runs them concurrently, logs a failure', async () => {
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const startedAt: number[] = [];
    let releaseFirst!: () => void;
    const secondStarted = new Promise<void>((r) => (releaseFirst = r));
    const warnings: string[] = [];
    const observers: CycleObserver[] = [
      {
        name: 'a',
        // Finishes only once the next observer has started: a sequential loop would never get there.
        snapshotApplied: async () => {
          startedAt.push(turn);
          await secondStarted;
        },
      },
      {
        name: 'b',
        snapshotApplied: () => {
          startedAt.push(turn);
          releaseFirst();
          return Promise.resolve();
        },
      },
      { name: 'no hook' },
      {
        name: 'c',
        snapshotApplied: () => {
          startedAt.push(turn);
          return Promise.reject(new Error('boom'));
        },
      },
    ];
    await notifyCycleObservers(observers, 'snapshotApplied', event, {
      warn: (obj) => warnings.push(JSON.stringify(obj)),
    });
    ticking = false;
    expect(startedAt).toHaveLength(3);
    expect(startedAt[1]).toBeGreaterThan(startedAt[0] as number);
    expect(startedAt[2]).toBeGreaterThan(startedAt[1] as number);
    expect(warnings).toEqual([JSON.stringify({ observer: 'c', hook: 'snapshotApplied', err: 'boom' })]);
  });
});
