/**
 * @module The event loop's thread at a real-time priority (`CHAIN_MAIN_THREAD_SCHED=fifo` or `rr`), opt-in.
 *
 * Why: on a machine with few cores the main thread shares them with its own worker threads, Redis and
 * whatever else runs there. Nice values (CHAIN_THREAD_NICE) only weigh its share: it still waits for a core
 * behind equal-weight processes such as Redis, 10–24 ms in one turn on two cores (the README's
 * "Performance"). At `SCHED_FIFO` priority 1, the lowest real-time priority, it takes a core whenever it is
 * runnable and gives it back whenever it waits, which an event loop does after every turn.
 *
 * Only the main thread: the policy is set with `--reset-on-fork`, so every thread (and process) it starts
 * from then on begins at the normal policy, and threads started before keep theirs. Set with util-linux's
 * `chrt` (Node has no binding for `sched_setscheduler`); it needs `CAP_SYS_NICE` or an `RLIMIT_RTPRIO` of at
 * least 1 (systemd: `LimitRTPRIO=1`). A failure is reported, never fatal: the worker runs as before.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type MainThreadSched = 'other' | 'fifo' | 'rr';

/** Linux's policy numbers (`stat` field 41), by name. */
const POLICY: Readonly<Record<MainThreadSched, number>> = { other: 0, fifo: 1, rr: 2 };

const POLICY_NAMES: ReadonlyMap<number, string> = new Map([
  ...Object.entries(POLICY).map(([name, n]) => [n, name] as const),
  [3, 'batch'],
  [5, 'idle'],
]);

/** Linux's number for a policy as its name (`unknown` for null: a task that could not be read). */
export function policyName(policy: number | null): string {
  return policy === null ? 'unknown' : (POLICY_NAMES.get(policy) ?? String(policy));
}

/** The real-time priority the main thread gets: the lowest, above every normal thread and nothing else. */
export const RT_PRIORITY = 1;

/** The scheduling policy of task `tid` of process `pid` (Linux `stat` field 41), or null where unreadable. */
export function taskPolicy(pid: number | 'self' = 'self', tid: number = process.pid): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name (in parentheses, may hold blanks) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const policy = Number(fields[41 - 3]);
    return Number.isInteger(policy) ? policy : null;
  } catch {
    return null;
  }
}

/** `chrt`'s arguments that give task `tid` `sched` at {@link RT_PRIORITY}, not inherited by new tasks. */
export function chrtArgs(sched: Exclude<MainThreadSched, 'other'>, tid: number): string[] {
  return [sched === 'fifo' ? '--fifo' : '--rr', '--reset-on-fork', '--pid', String(RT_PRIORITY), String(tid)];
}

/** What {@link setMainThreadSched} did: the policy now in force, or why it is not the one asked for. */
export type SchedOutcome = { ok: true; policy: MainThreadSched } | { ok: false; reason: string };

/**
 * Gives the calling process's main thread `sched` (call it from the main thread, at start-up). `other`
 * changes nothing. The outcome is read back from `/proc`, not taken from `chrt`'s exit status.
 */
export async function setMainThreadSched(
  sched: MainThreadSched,
  opts: { chrt?: string; platform?: NodeJS.Platform; timeoutMs?: number } = {},
): Promise<SchedOutcome> {
  if (sched === 'other') return { ok: true, policy: 'other' };
  const platform = opts.platform ?? process.platform;
  if (platform !== 'linux') return { ok: false, reason: `real-time scheduling needs Linux, not ${platform}` };
  const failure = await new Promise<string | null>((resolve) => {
    execFile(
      opts.chrt ?? 'chrt',
      chrtArgs(sched, process.pid),
      { timeout: opts.timeoutMs ?? 5_000 },
      (err, _stdout, stderr) => {
        if (!err) return resolve(null);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return resolve(`${opts.chrt ?? 'chrt'} not found (util-linux)`);
        resolve(stderr.trim().split('\n')[0] || err.message);
      },
    );
  });
  if (failure !== null) return { ok: false, reason: failure };
  const now = taskPolicy();
  return now === POLICY[sched]
    ? { ok: true, policy: sched }
    : { ok: false, reason: `the main thread's policy reads ${String(now)} after chrt, not ${POLICY[sched]}` };
}

/** Where {@link applyMainThreadSched} reports (a pino logger fits). */
export interface SchedLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * Start-up's step: sets `sched` ({@link setMainThreadSched}) and logs what happened, a warning naming the
 * setting when it could not be set. `other` logs nothing.
 */
export async function applyMainThreadSched(
  sched: MainThreadSched,
  log: SchedLog,
  opts?: Parameters<typeof setMainThreadSched>[1],
): Promise<SchedOutcome> {
  const outcome = await setMainThreadSched(sched, opts);
  if (sched === 'other') return outcome;
  if (outcome.ok)
    log.info(`CHAIN_MAIN_THREAD_SCHED: the main thread runs at SCHED_${sched.toUpperCase()} ${RT_PRIORITY}`);
  else
    log.warn(`CHAIN_MAIN_THREAD_SCHED=${sched}: the main thread keeps the normal policy (${outcome.reason})`);
  return outcome;
}
