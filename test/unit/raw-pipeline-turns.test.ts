/**
 * The bulk writer's pacing (raw-pipeline.ts `afterWrite`): after each chunk it waits for the socket to
 * drain when the kernel's buffer is full, gives the event loop a turn once the turn's bytes or time are
 * spent, and otherwise writes the next chunk in the same turn.
 */
import { describe, expect, it } from 'vitest';
import { afterWrite, TURN_BYTES, TURN_MS, type NextStep } from '../../src/redis/raw-pipeline.js';

describe('afterWrite', () => {
  const cases: [string, boolean, number, number, NextStep][] = [
    ['the socket took it, budget left', true, 256 * 1024, 0.2, 'continue'],
    ['the first chunk of a turn', true, 1, 0, 'continue'],
    ['just under both budgets', true, TURN_BYTES - 1, TURN_MS - 0.001, 'continue'],
    ['the turn’s bytes spent', true, TURN_BYTES, 0.1, 'yield'],
    ['the turn’s time spent', true, 64 * 1024, TURN_MS, 'yield'],
    ['both spent', true, 3 * TURN_BYTES, 5, 'yield'],
    ['the kernel is full: bytes queue here', false, 256 * 1024, 0.1, 'drain'],
    ['full with the budget spent too: drain first', false, TURN_BYTES, TURN_MS, 'drain'],
  ];
  it.each(cases)('%s', (_, accepted, bytes, ms, step) => {
    expect(afterWrite(accepted, bytes, ms)).toBe(step);
  });

  it('budgets a turn at 2 MiB or 1 ms', () => {
    expect(TURN_BYTES).toBe(2 * 1024 * 1024);
    expect(TURN_MS).toBe(1);
  });
});
