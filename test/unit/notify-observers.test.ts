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
import { turnCounter } from '../support/turns.js';

const event = { symbol: 'I:SPX' } as SnapshotApplied;

describe('notifyCycleObservers', () => {
  it('starts each observer on its own turn, runs them concurrently, logs a failure', async () => {
    const counter = turnCounter();
    const startedAt: number[] = [];
    let releaseFirst!: () => void;
    const secondStarted = new Promise<void>((r) => (releaseFirst = r));
    const warnings: string[] = [];
    const observers: CycleObserver[] = [
      {
        name: 'a',
        // Finishes only once the next observer has started: a sequential loop would never get there.
        snapshotApplied: async () => {
          startedAt.push(counter.turns);
          await secondStarted;
        },
      },
      {
        name: 'b',
        snapshotApplied: () => {
          startedAt.push(counter.turns);
          releaseFirst();
          return Promise.resolve();
        },
      },
      { name: 'no hook' },
      {
        name: 'c',
        snapshotApplied: () => {
          startedAt.push(counter.turns);
          return Promise.reject(new Error('boom'));
        },
      },
    ];
    await notifyCycleObservers(observers, 'snapshotApplied', event, {
      warn: (obj) => warnings.push(JSON.stringify(obj)),
    });
    counter.stop();
    expect(startedAt).toHaveLength(3);
    expect(startedAt[1]).toBeGreaterThan(startedAt[0] as number);
    expect(startedAt[2]).toBeGreaterThan(startedAt[1] as number);
    expect(warnings).toEqual([JSON.stringify({ observer: 'c', hook: 'snapshotApplied', err: 'boom' })]);
  });
});
