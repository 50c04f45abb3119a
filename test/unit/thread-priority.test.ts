/**
 * Every kind of worker thread (page decoder, model, compat, history, live) lowers its own priority by
 * CHAIN_THREAD_NICE when it starts, and only its own: read back from Linux's per-task `stat` (field 19, the
 * nice value) of every task of the process, the main thread stays at 0 and each new thread is at the
 * setting. A thread that cannot lower itself is logged once, never fatal; the setting is validated; the
 * benchmark's local API process runs at its own lower priority.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { SimProcess } from '../../bench/sim-process.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { PACKAGE_ROOT } from '../../src/lib/repo-paths.js';
import {
  configureThreadNice,
  forEachTask,
  isThreadNiceFailure,
  lowerHelperThreads,
  lowerPriorityBy,
  threadNice,
} from '../../src/lib/thread-priority.js';
import { WorkerRpc } from '../../src/lib/worker-rpc.js';
import { PagePool } from '../../src/provider/massive/page-pool.js';

const linux = process.platform === 'linux';
const exec = promisify(execFile);

/** Nice value (field 19 of `stat`) of every task (thread) of process `pid`, by task id. */
function niceByTask(pid: number | 'self' = 'self'): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the task ended meanwhile
    }
    // Fields after the command name (in parentheses, may hold blanks) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[19 - 3]));
  }
  return out;
}

/** The nice value of each task that exists now and did not in `before`. */
function newTasks(before: Map<number, number>): number[] {
  return [...niceByTask()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
}

const entry = (path: string): string => resolve(PACKAGE_ROOT, 'dist/src', path);

/** Each kind of thread started through WorkerRpc, and a request that makes it answer (with an error). */
const RPC_THREADS = [
  { name: 'model thread', script: entry('models/model-thread-entry.js'), body: { req: null } },
  { name: 'compat thread', script: entry('outputs/marketswarm/compat-thread-entry.js'), body: { req: null } },
  { name: 'history thread', script: entry('outputs/history/encoder-thread-entry.js'), body: { records: [] } },
  { name: 'live thread', script: entry('live/live-thread-entry.js'), body: { op: null } },
];

const closers: (() => Promise<void>)[] = [];

/** The compiled module under test, for the probe scripts below (they run as plain ESM). */
const LIB = JSON.stringify(resolve(PACKAGE_ROOT, 'dist/src/lib/thread-priority.js'));

/** Writes `source(path)` to a fresh temporary `name` (removed after the test) and returns its path. */
function probeScript(name: string, source: (path: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'thread-nice-'));
  closers.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  const path = join(dir, name);
  writeFileSync(path, source(path));
  return path;
}

afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  configureThreadNice(0);
});

describe.runIf(linux)('worker threads lower their own priority (Linux)', () => {
  it('each thread kind runs at CHAIN_THREAD_NICE; the main thread stays at 0', async () => {
    await readFile(resolve(PACKAGE_ROOT, 'package.json')); // libuv's pool started before the baseline
    configureThreadNice(7);
    const before = niceByTask();
    expect(before.get(process.pid)).toBe(0);

    for (const t of RPC_THREADS) {
      const rpc = new WorkerRpc(t.script, t.name, 'failed', false);
      closers.push(() => rpc.close());
      const started = newTasks(before).length;
      // The reply (an error here) proves the entry script ran, its first statement included.
      await rpc.request(t.body).catch(() => undefined);
      expect(newTasks(before).length, t.name).toBe(started + 1);
    }
    const pool = new PagePool(1);
    closers.push(() => pool.close());
    expect(pool.threaded).toBe(true); // the compiled thread script exists (npm run build)
    await expect(
      pool.decode(Buffer.from('{"results": ['), { keepRaw: false, wantUnderlying: true }),
    ).rejects.toThrow();

    const started = newTasks(before);
    expect(started).toEqual([7, 7, 7, 7, 7]); // model, compat, history, live, one page thread
    const after = niceByTask();
    expect(after.get(process.pid)).toBe(0); // the main thread: untouched
    for (const [tid, nice] of before) if (after.has(tid)) expect(after.get(tid), `task ${tid}`).toBe(nice);
  });

  it('0 leaves the threads at the main thread’s priority', async () => {
    configureThreadNice(0);
    const before = niceByTask();
    const pool = new PagePool(1);
    closers.push(() => pool.close());
    await expect(
      pool.decode(Buffer.from('nope'), { keepRaw: false, wantUnderlying: true }),
    ).rejects.toThrow();
    expect(newTasks(before)).toEqual([0]);
  });

  it('adds to the nice value the calling thread already has, up to 19', async () => {
    // A thread at nice 16 raising itself by 7 stops at 19 (and reports no failure).
    const script = probeScript(
      'probe.mjs',
      () => `import { setPriority, getPriority } from 'node:os';
       import { parentPort } from 'node:worker_threads';
       import { lowerPriorityBy } from ${LIB};
       setPriority(16);
       const failure = lowerPriorityBy(7);
       parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, ok: true, res: { failure, nice: getPriority() } }));`,
    );
    const rpc = new WorkerRpc(script, 'probe thread', 'failed', true);
    closers.push(() => rpc.close());
    expect(await rpc.request({})).toEqual({ failure: null, nice: 19 });
    expect(niceByTask().get(process.pid)).toBe(0);
  });
});

describe.runIf(linux)('V8’s and libuv’s threads (Linux)', () => {
  // In a process of its own: lowering the vitest worker's own helper threads would outlive the test.
  it('lowerHelperThreads puts every task but the main thread at the setting; 0 leaves them', async () => {
    const script = probeScript(
      'helpers.mjs',
      (self) => `import { readdirSync, readFileSync } from 'node:fs';
       import { readFile } from 'node:fs/promises';
       import { configureThreadNice, lowerHelperThreads } from ${LIB};
       const nices = () => Object.fromEntries(readdirSync('/proc/self/task').map((t) => {
         const st = readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
         return [t, Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16])];
       }));
       await readFile(${JSON.stringify(self)}); // libuv's pool started
       configureThreadNice(0);
       const off = { failure: lowerHelperThreads(), nices: nices() };
       configureThreadNice(6);
       const on = { failure: lowerHelperThreads(), nices: nices() };
       console.log(JSON.stringify({ pid: process.pid, off, on }));`,
    );
    const { stdout } = await exec(process.execPath, [script]);
    type Round = { failure: string | null; nices: Record<string, number> };
    const got = JSON.parse(stdout) as { pid: number; off: Round; on: Round };
    const others = (r: Round): number[] =>
      Object.entries(r.nices)
        .filter(([tid]) => Number(tid) !== got.pid)
        .map(([, n]) => n);
    // V8's platform threads and libuv's pool at least.
    expect(others(got.on).length).toBeGreaterThanOrEqual(5);
    expect(got.off.failure).toBeNull();
    expect(new Set(others(got.off))).toEqual(new Set([0]));
    expect(got.on.failure).toBeNull();
    expect(new Set(others(got.on))).toEqual(new Set([6]));
    expect(got.on.nices[String(got.pid)]).toBe(0);
  });

  it('is not attempted off Linux', () => {
    configureThreadNice(5);
    expect(lowerHelperThreads('darwin')).toBe('per-thread priorities need Linux, not darwin');
  });
});

describe('a thread that cannot lower its priority', () => {
  it('is not attempted off Linux (where the call would renice the whole process)', () => {
    expect(lowerPriorityBy(5, 'darwin')).toBe('per-thread priorities need Linux, not darwin');
    expect(lowerPriorityBy(0, 'darwin')).toBeNull();
  });

  it('is logged once per process, whatever the number of threads, and the threads keep working', async () => {
    const logged: string[] = [];
    configureThreadNice(5, (m) => logged.push(m));
    const script = probeScript(
      'fails.mjs',
      () => `import { parentPort } from 'node:worker_threads';
       parentPort.postMessage({ threadNiceFailed: 'EPERM (test)' });
       parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, ok: true, res: 'answered' }));`,
    );
    for (let i = 0; i < 3; i++) {
      const rpc = new WorkerRpc(script, 'failing thread', 'failed', true);
      closers.push(() => rpc.close());
      expect(await rpc.request({})).toBe('answered');
    }
    expect(logged).toEqual([
      "CHAIN_THREAD_NICE: a worker thread could not lower its priority (EPERM (test)); threads run at the main thread's priority",
    ]);
    expect(isThreadNiceFailure({ id: 1, ok: true })).toBe(false);
  });
});

describe('CHAIN_THREAD_NICE', () => {
  it('defaults to 5, accepts 0..19 and stops start-up naming the setting otherwise', () => {
    expect(loadConfig({ env: {} }).threadNice).toBe(5);
    expect(loadConfig({ env: { CHAIN_THREAD_NICE: '0' } }).threadNice).toBe(0);
    expect(loadConfig({ env: { CHAIN_THREAD_NICE: '19' } }).threadNice).toBe(19);
    for (const bad of ['20', '-1', '2.5', 'low', '0x5']) {
      let err: unknown;
      try {
        loadConfig({ env: { CHAIN_THREAD_NICE: bad } });
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ConfigError);
      expect((err as Error).message, bad).toContain('CHAIN_THREAD_NICE');
    }
  });

  it('configureThreadNice clamps to 0..19', () => {
    configureThreadNice(25);
    expect(threadNice()).toBe(19);
    configureThreadNice(-3);
    expect(threadNice()).toBe(0);
  });
});

describe.runIf(linux)('the benchmark’s local API process', () => {
  it('runs every one of its threads at the nice value it was given', async () => {
    const sim = new SimProcess({ latencyMs: 1, apiKey: 'bench-key-not-a-secret', nice: 9 });
    closers.push(() => sim.stop());
    await sim.start();
    const nices = [...niceByTask(sim.pid).values()];
    expect(nices.length).toBeGreaterThan(1);
    expect(new Set(nices)).toEqual(new Set([9]));
  });
});

describe.runIf(linux)('every task of a process (Linux)', () => {
  it('a task that ended meanwhile (ESRCH from the system) is skipped, not reported', () => {
    // os.setPriority on a task that is gone throws a SystemError whose `code` is ERR_SYSTEM_ERROR and
    // whose `info.code` is ESRCH.
    expect(forEachTask('self', () => setPriority(2 ** 22 + 12345, 5))).toBeNull();
  });

  it('reports the first other failure, and still visits every task', () => {
    const seen: number[] = [];
    const failure = forEachTask('self', (tid) => {
      seen.push(tid);
      throw new Error(`refused ${String(seen.length)}`);
    });
    expect(failure).toBe('refused 1');
    expect(seen.sort((a, b) => a - b)).toEqual(
      readdirSync('/proc/self/task')
        .map(Number)
        .sort((a, b) => a - b),
    );
  });
});
