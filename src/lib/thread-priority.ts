/**
 * @module Background threads yield the core to the event loop: every worker thread (page decoders, model,
 * compat, history, live) raises its own nice value by `CHAIN_THREAD_NICE` when it starts, and the main
 * thread raises V8's and libuv's threads by as much at start-up ({@link lowerHelperThreads}).
 *
 * Why: on a machine with few cores the main thread, the worker threads, Redis and the API's other processes
 * share them; when a thread's slice ran the main thread waited for a core (the event loop's wall-clock
 * stalls were 2–3× its own CPU between two turns). A higher nice value gives the main thread the core first.
 *
 * On Linux `setpriority(PRIO_PROCESS, 0, n)` (Node's `os.setPriority(n)`) applies to the calling thread
 * only, so each thread lowers itself; the main thread stays as it was started. Elsewhere the same call
 * would renice the whole process, so it is not made. A failure is reported to the parent thread, which logs
 * it once; it is never fatal.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

/** The most a nice value can be on Linux. */
const MAX_NICE = 19;

let nice = 0;
let report: (message: string) => void = () => undefined;
let reported = false;

/**
 * Sets, for the threads started from now on, how much they lower their priority (0 = not at all), and
 * where a thread's failure to do so is logged (once per process). Call once at start-up.
 */
export function configureThreadNice(value: number, onFailure?: (message: string) => void): void {
  nice = Math.max(0, Math.min(MAX_NICE, Math.round(value)));
  if (onFailure) report = onFailure;
  reported = false;
}

/** The nice increment new threads get. */
export function threadNice(): number {
  return nice;
}

/** The `workerData` of a new thread: what {@link lowerThisThread} reads on its side. */
export function threadNiceData(): { threadNice: number } {
  return { threadNice: nice };
}

/** The message a thread sends its parent when it could not lower its priority. */
export interface ThreadNiceFailure {
  threadNiceFailed: string;
}

/** True (and logged, the first time in the process) when `msg` is a thread's {@link ThreadNiceFailure}. */
export function isThreadNiceFailure(msg: unknown): msg is ThreadNiceFailure {
  if (typeof msg !== 'object' || msg === null || !('threadNiceFailed' in msg)) return false;
  if (!reported) {
    reported = true;
    report(
      `CHAIN_THREAD_NICE: a worker thread could not lower its priority (${String(msg.threadNiceFailed)}); threads run at the main thread's priority`,
    );
  }
  return true;
}

/**
 * Lowers the priority of the calling thread by `increment` (to at most 19). Returns null, or why not.
 * Only on Linux, where it applies to this thread alone.
 */
export function lowerPriorityBy(increment: number, platform = process.platform): string | null {
  if (increment <= 0) return null;
  if (platform !== 'linux') return `per-thread priorities need Linux, not ${platform}`;
  try {
    setPriority(Math.min(MAX_NICE, getPriority() + increment));
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Called first thing in a thread's entry script: lowers this thread's priority by the `threadNice` its
 * parent passed in `workerData`, and reports a failure to the parent.
 */
export function lowerThisThread(): void {
  const data: unknown = workerData;
  const increment =
    typeof data === 'object' && data !== null && 'threadNice' in data && typeof data.threadNice === 'number'
      ? data.threadNice
      : 0;
  const failure = lowerPriorityBy(increment);
  if (failure !== null) parentPort?.postMessage({ threadNiceFailed: failure } satisfies ThreadNiceFailure);
}

/**
 * Lowers, by the configured increment, every other thread of this process that is not lower already:
 * V8's platform threads (garbage collection and compilation for every isolate, the worker threads' heaps
 * included) and libuv's pool. Call from the main thread once the process has started. Measured on the
 * burst worker: V8's four platform threads used 4.2 s of CPU in 30 s at the main thread's priority, more
 * than the main thread itself (3.0 s), competing with it and with Redis for the cores while the worker
 * threads they serve ran at the lower priority. Threads started later lower themselves (the worker
 * threads) or keep the process's priority (libuv's pool, started on first use: little CPU). Returns null,
 * or why not (the first failure).
 */
export function lowerHelperThreads(platform = process.platform): string | null {
  if (nice <= 0) return null;
  if (platform !== 'linux') return `per-thread priorities need Linux, not ${platform}`;
  const target = Math.min(MAX_NICE, getPriority() + nice);
  return forEachTask('self', (tid) => {
    if (tid === process.pid) return; // the main thread's task id is the process id
    if (getPriority(tid) < target) setPriority(tid, target);
  });
}

function isEndedTask(err: unknown): boolean {
  const e = err as { code?: string; info?: { code?: string } };
  return e.info?.code === 'ESRCH' || e.code === 'ESRCH';
}

/**
 * Calls `f` with the id of every task (thread) of process `pid` (Linux: `/proc/<pid>/task`). A task that
 * ended meanwhile is skipped; returns null, or the first other failure's message (every task is visited).
 */
export function forEachTask(pid: number | 'self', f: (tid: number) => void): string | null {
  let failure: string | null = null;
  for (const name of readdirSync(`/proc/${String(pid)}/task`)) {
    try {
      f(Number(name));
    } catch (err) {
      // Node's SystemError: `code` is ERR_SYSTEM_ERROR, the system's own code is in `info`.
      if (!isEndedTask(err)) failure ??= (err as Error).message;
    }
  }
  return failure;
}
