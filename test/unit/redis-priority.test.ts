/**
 * The benchmark's redis-server at real-time priority during the compat scenario (bench/redis-priority.ts):
 * every task of a real redis-server goes to SCHED_FIFO 1 and back to SCHED_OTHER, read back from Linux's
 * per-task `stat` (field 41, the policy); without the privilege the refusal is returned, never thrown, and
 * the server keeps its normal policy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { redisSched, setRedisSched } from '../../bench/redis-priority.js';
import { RedisServerProcess } from '../../tools/redis-servers.js';

const SCHED_OTHER = 0;
const SCHED_FIFO = 1;

/** Policy (field 41 of `stat`) of every task of process `pid`. */
function policies(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name `(…)`, which may hold spaces: field 3 is the first.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[41 - 3]);
  });
}

describe.runIf(process.platform === 'linux')('bench redis-server scheduling', () => {
  let server: RedisServerProcess | undefined;
  afterEach(async () => {
    await server?.destroy();
    server = undefined;
  });

  it('puts every task of the server at SCHED_FIFO 1 and back, or reports the refusal', async () => {
    server = new RedisServerProcess();
    await server.start();
    const pid = server.pid;
    expect(pid).toBeGreaterThan(0);
    if (pid === undefined) return;
    expect(policies(pid).every((p) => p === SCHED_OTHER)).toBe(true);
    expect(await redisSched(pid)).toBe('SCHED_OTHER 0');

    const refused = await setRedisSched(pid, 'fifo');
    if (refused !== null) {
      // Not privileged here: a message, and the server as it was.
      expect(refused.length).toBeGreaterThan(0);
      expect(policies(pid).every((p) => p === SCHED_OTHER)).toBe(true);
      return;
    }
    expect(policies(pid).every((p) => p === SCHED_FIFO)).toBe(true);
    expect(await redisSched(pid)).toBe('SCHED_FIFO 1');

    expect(await setRedisSched(pid, 'other')).toBeNull();
    expect(policies(pid).every((p) => p === SCHED_OTHER)).toBe(true);
    expect(await redisSched(pid)).toBe('SCHED_OTHER 0');
  });

  it('returns the failure for a process that does not exist', async () => {
    const refused = await setRedisSched(2 ** 22 + 12_345, 'fifo');
    expect(refused).toMatch(/\S/);
  });
});
