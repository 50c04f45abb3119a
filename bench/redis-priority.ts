/**
 * @module The bench's redis-server at real-time priority (Linux `chrt`, util-linux). The bench's Redis stands
 * in for a Redis on a host of its own, as the local API is niced to stand in for a remote one: on the two
 * shared cores the scheduler otherwise takes Redis off its core mid-command for a tick (4 ms at HZ=250) or
 * more, and SLOWLOG records that wait as the command's time. SCHED_FIFO priority 1 is the lowest real-time
 * priority: Redis runs whenever it has work, before every normal task, and sleeps in its event loop otherwise.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The scheduling of every thread of process `pid`: SCHED_FIFO priority 1, or back to SCHED_OTHER. */
export type RedisSched = 'fifo' | 'other';

/**
 * Sets `pid`'s threads (`chrt --all-tasks`) to `sched`. Real-time priority needs privilege
 * (CAP_SYS_NICE or an RLIMIT_RTPRIO): a refusal, or a machine without `chrt`, is returned as its message,
 * not thrown, so the benchmark runs on at normal priority and says so.
 */
export async function setRedisSched(pid: number, sched: RedisSched): Promise<string | null> {
  const policy = sched === 'fifo' ? ['--fifo', '1'] : ['--other', '0'];
  try {
    await run('chrt', ['--all-tasks', '--pid', ...policy, String(pid)], { timeout: 10_000 });
    return null;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    return (e.stderr ?? '').trim() || e.message;
  }
}

/** `chrt --pid`'s report of `pid`'s main thread: `SCHED_FIFO 1`, `SCHED_OTHER 0`. */
export async function redisSched(pid: number): Promise<string> {
  const { stdout } = await run('chrt', ['--pid', String(pid)], { timeout: 10_000 });
  const policy = /policy: (\S+)/.exec(stdout)?.[1] ?? '?';
  const prio = /priority: (\d+)/.exec(stdout)?.[1] ?? '?';
  return `${policy} ${prio}`;
}
