/**
 * CHAIN_MAIN_THREAD_SCHED: the main thread alone goes to a real-time policy (read back from Linux's per-task
 * `stat`, field 41), threads started afterwards begin at the normal policy, threads started before keep
 * it; a process that may not do it keeps the normal policy and says why; the setting is validated.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { PACKAGE_ROOT } from '../../src/lib/repo-paths.js';
import {
  applyMainThreadSched,
  chrtArgs,
  policyName,
  setMainThreadSched,
  taskPolicy,
} from '../../src/lib/main-thread-sched.js';

const exec = promisify(execFile);
const linux = process.platform === 'linux';
const root = typeof process.getuid === 'function' && process.getuid() === 0;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A script that starts a thread, asks for `sched`, starts another thread, and prints the outcome and the
 * policy of every task of its process. Readable by any user (the unprivileged case runs it as nobody).
 */
function probe(sched: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'main-sched-'));
  dirs.push(dir);
  chmodSync(dir, 0o755);
  const lib = JSON.stringify(resolve(PACKAGE_ROOT, 'dist/src/lib/main-thread-sched.js'));
  const path = join(dir, 'probe.mjs');
  writeFileSync(
    path,
    `import { Worker } from 'node:worker_threads';
import { readdirSync } from 'node:fs';
import { applyMainThreadSched, taskPolicy } from ${lib};
const idle = "const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => process.exit(0)); parentPort.postMessage(require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);";
const start = () => new Promise((res) => { const w = new Worker(idle, { eval: true }); w.once('message', (tid) => res({ w, tid: Number(tid) })); });
const before = await start();
const logs = [];
const outcome = await applyMainThreadSched(${JSON.stringify(sched)}, { info: (m) => logs.push(['info', m]), warn: (m) => logs.push(['warn', m]) });
const after = await start();
const tasks = Object.fromEntries(readdirSync('/proc/self/task').map((t) => [t, taskPolicy('self', Number(t))]));
console.log(JSON.stringify({ outcome, logs, main: process.pid, before: before.tid, after: after.tid, tasks }));
before.w.postMessage(0); after.w.postMessage(0);
`,
  );
  chmodSync(path, 0o644);
  return path;
}

interface ProbeOut {
  outcome: { ok: boolean; policy?: string; reason?: string };
  logs: [string, string][];
  main: number;
  before: number;
  after: number;
  tasks: Record<string, number | null>;
}

describe('chrtArgs', () => {
  it.each([
    ['fifo', 42, ['--fifo', '--reset-on-fork', '--pid', '1', '42']],
    ['rr', 7, ['--rr', '--reset-on-fork', '--pid', '1', '7']],
  ] as const)('%s for task %i', (sched, tid, args) => {
    expect(chrtArgs(sched, tid)).toEqual(args);
  });
});

describe('policyName', () => {
  it.each([
    [0, 'other'],
    [1, 'fifo'],
    [2, 'rr'],
    [3, 'batch'],
    [5, 'idle'],
    [6, '6'],
    [null, 'unknown'],
  ] as const)('%s is %s', (n, name) => {
    expect(policyName(n)).toBe(name);
  });
});

describe('setMainThreadSched without a change or a way to make it', () => {
  it('other changes nothing and runs no chrt', async () => {
    const before = taskPolicy();
    expect(await setMainThreadSched('other', { chrt: '/nonexistent/chrt' })).toEqual({
      ok: true,
      policy: 'other',
    });
    expect(taskPolicy()).toBe(before);
  });

  it('elsewhere than Linux it says so', async () => {
    expect(await setMainThreadSched('fifo', { platform: 'darwin' })).toEqual({
      ok: false,
      reason: 'real-time scheduling needs Linux, not darwin',
    });
  });

  it('without chrt it says so, and the warning names the setting', async () => {
    const logs: string[] = [];
    const outcome = await applyMainThreadSched(
      'rr',
      { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`) },
      { chrt: '/nonexistent/chrt' },
    );
    expect(outcome).toEqual({ ok: false, reason: '/nonexistent/chrt not found (util-linux)' });
    expect(logs).toEqual([
      'warn CHAIN_MAIN_THREAD_SCHED=rr: the main thread keeps the normal policy (/nonexistent/chrt not found (util-linux))',
    ]);
  });
});

describe.runIf(linux)('taskPolicy (Linux)', () => {
  it("reads this process's main thread: the normal policy", () => {
    expect(taskPolicy()).toBe(0);
    expect(taskPolicy('self', 999_999_999)).toBeNull();
  });
});

describe.runIf(linux && root)('the main thread at a real-time policy (Linux, as root)', () => {
  it.each([
    ['fifo', 1],
    ['rr', 2],
  ] as const)(
    '%s: the main thread alone, threads started after it at the normal policy',
    async (sched, policy) => {
      const { stdout } = await exec(process.execPath, [probe(sched)], { timeout: 20_000 });
      const out = JSON.parse(stdout) as ProbeOut;
      expect(out.outcome).toEqual({ ok: true, policy: sched });
      expect(out.logs).toEqual([
        ['info', `CHAIN_MAIN_THREAD_SCHED: the main thread runs at SCHED_${sched.toUpperCase()} 1`],
      ]);
      expect(out.tasks[String(out.main)]).toBe(policy);
      expect(out.tasks[String(out.before)]).toBe(0);
      expect(out.tasks[String(out.after)]).toBe(0);
      // Every other task too (V8's and libuv's threads): only the main thread changed.
      const others = Object.entries(out.tasks).filter(([tid]) => Number(tid) !== out.main);
      expect(others.length).toBeGreaterThanOrEqual(2);
      expect(others.every(([, p]) => p === 0)).toBe(true);
    },
  );

  it('a user who may not keeps the normal policy, and the warning says why', async () => {
    // nobody, with no RLIMIT_RTPRIO and no CAP_SYS_NICE.
    const { stdout } = await exec(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, probe('fifo')],
      { timeout: 20_000 },
    );
    const out = JSON.parse(stdout) as ProbeOut;
    expect(out.outcome.ok).toBe(false);
    expect(out.outcome.reason).toMatch(/Operation not permitted/);
    expect(out.tasks[String(out.main)]).toBe(0);
    expect(out.logs).toHaveLength(1);
    expect(out.logs[0]?.[0]).toBe('warn');
    expect(out.logs[0]?.[1]).toMatch(
      /^CHAIN_MAIN_THREAD_SCHED=fifo: the main thread keeps the normal policy \(.*Operation not permitted/,
    );
  });
});

describe('CHAIN_MAIN_THREAD_SCHED', () => {
  it('defaults to other and takes fifo or rr', () => {
    expect(loadConfig({ env: {} }).mainThreadSched).toBe('other');
    expect(loadConfig({ env: { CHAIN_MAIN_THREAD_SCHED: 'fifo' } }).mainThreadSched).toBe('fifo');
    expect(loadConfig({ env: { CHAIN_MAIN_THREAD_SCHED: 'rr' } }).mainThreadSched).toBe('rr');
  });

  it.each(['FIFO', 'deadline', '1', 'sched_fifo'])('refuses %j, naming the setting', (bad) => {
    let err: unknown;
    try {
      loadConfig({ env: { CHAIN_MAIN_THREAD_SCHED: bad } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('CHAIN_MAIN_THREAD_SCHED');
  });
});
