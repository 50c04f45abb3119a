/**
 * @module The local Massive-compatible API in its own process (so it never shares the worker's event
 * loop), controlled through its admin endpoints. It stands in for a remote machine with CPUs of its own,
 * which the benchmark's two cores cannot give it: its priority (`nice`, every one of its threads) is set
 * per scenario (see main.ts), below the worker where it would otherwise preempt the worker and Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../src/lib/repo-paths.js';
import { forEachTask } from '../src/lib/thread-priority.js';

export class SimProcess {
  private proc: ChildProcess | undefined;
  url = '';

  /**
   * @param opts.nice the API process's nice value (0: the benchmark's own priority); the worker's
   *   production API is another machine, so it should not take the worker's cores.
   */
  constructor(private readonly opts: { latencyMs: number; apiKey: string; seed?: number; nice?: number }) {}

  async start(): Promise<void> {
    const bin = resolve(PACKAGE_ROOT, 'bin/chain-worker');
    const args = [
      'sim-server',
      '--port',
      '0',
      '--latency-ms',
      String(this.opts.latencyMs),
      '--seed',
      String(this.opts.seed ?? 42),
    ];
    // Through nice(1), so the process starts at that priority and every thread it starts inherits it.
    const nice = Math.max(0, Math.min(19, Math.round(this.opts.nice ?? 0)));
    const [command, argv] =
      nice > 0
        ? ['nice', ['-n', String(nice), process.execPath, bin, ...args]]
        : [process.execPath, [bin, ...args]];
    this.proc = spawn(command, argv, {
      env: { ...process.env, MASSIVE_API_KEY: this.opts.apiKey, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: this.proc.stdout as NodeJS.ReadableStream });
    this.url = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('sim-server did not start')), 15_000);
      lines.on('line', (line) => {
        try {
          const msg = JSON.parse(line) as { listening?: string };
          if (msg.listening) {
            clearTimeout(timer);
            res(msg.listening);
          }
        } catch {
          // not our line
        }
      });
    });
  }

  /**
   * Sets the nice value of every thread of the API process (Linux: each task by its id). Raising it is
   * always allowed; lowering it needs privilege, so a refusal is returned, not thrown.
   */
  setNice(nice: number): string | null {
    const pid = this.proc?.pid;
    if (pid === undefined) return 'not started';
    try {
      return forEachTask(pid, (tid) => setPriority(tid, nice));
    } catch (err) {
      return (err as Error).message; // the process has gone (its task list cannot be read)
    }
  }

  /** The API process's id (once started). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private async admin(path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}/__admin/${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    if (!res.ok) throw new Error(`admin ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  }

  market(patch: Record<string, unknown>): Promise<unknown> {
    return this.admin('market', patch);
  }

  faults(patch: Record<string, unknown>): Promise<unknown> {
    return this.admin('faults', patch);
  }

  async stats(): Promise<{ requests: number }> {
    const res = await fetch(`${this.url}/__admin/stats`);
    return (await res.json()) as { requests: number };
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  }
}
