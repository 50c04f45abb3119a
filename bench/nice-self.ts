/**
 * @module Lowers the benchmark's own threads for a while: in the streaming scenario the local API and the
 * stream server run in the benchmark's process, standing in for Massive's machines (as the API process
 * does at `--sim-nice` from the growth scenario on).
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Sets every thread of this process to `nice`; returns what puts each back (raising a priority again needs
 * CAP_SYS_NICE or an RLIMIT_NICE that allows it: `restore` then returns why not) and whether it was refused.
 */
export function niceSelf(nice: number): { refused: string | null; restore(): string | null } {
  const before = new Map<number, number>();
  // A thread that ends in between (ESRCH) is skipped; any other refusal is reported.
  const each = (f: (tid: number) => void): string | null => {
    let refusal: string | null = null;
    for (const tid of readdirSync('/proc/self/task').map(Number)) {
      try {
        f(tid);
      } catch (err) {
        if ((err as { info?: { code?: string } }).info?.code !== 'ESRCH') refusal ??= (err as Error).message;
      }
    }
    return refusal;
  };
  const refused = each((tid) => {
    before.set(tid, getPriority(tid));
    setPriority(tid, nice);
  });
  return {
    refused,
    restore: () =>
      each((tid) => {
        const was = before.get(tid);
        if (was !== undefined && getPriority(tid) !== was) setPriority(tid, was);
      }),
  };
}
