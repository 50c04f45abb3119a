/**
 * @module Lowers the benchmark's own threads for a while: in the streaming scenario the local API and the
 * stream server run in the benchmark's process, standing in for Massive's machines (as the API process
 * does at `--sim-nice` from the growth scenario on).
 */
import { getPriority, setPriority } from 'node:os';
import { forEachTask } from '../src/lib/thread-priority.js';

/**
 * Sets every thread of this process to `nice`; returns what puts each back (raising a priority again needs
 * CAP_SYS_NICE or an RLIMIT_NICE that allows it: `restore` then returns why not) and whether it was refused.
 */
export function niceSelf(nice: number): { refused: string | null; restore(): string | null } {
  const before = new Map<number, number>();
  const refused = forEachTask('self', (tid) => {
    before.set(tid, getPriority(tid));
    setPriority(tid, nice);
  });
  return {
    refused,
    restore: () =>
      forEachTask('self', (tid) => {
        const was = before.get(tid);
        if (was !== undefined && getPriority(tid) !== was) setPriority(tid, was);
      }),
  };
}
