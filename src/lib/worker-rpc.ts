/**
 * @module Request/response over one worker thread, shared by the model, live and history threads: the
 * thread is started lazily, each request gets an id and a promise, a reply `{id, ok, res | bytes, error}`
 * settles it, and a thread that errors or exits rejects everything pending and is started again on the
 * next request.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type Transferable } from 'node:worker_threads';
import { PACKAGE_ROOT } from './repo-paths.js';
import { isThreadNiceFailure, threadNiceData } from './thread-priority.js';

/**
 * The compiled entry script of a thread: `entry` beside the module at `moduleUrl` when that module is itself
 * compiled, else `distPath` under the package; null when neither exists (running from TypeScript sources).
 */
export function threadScript(moduleUrl: string, entry: string, distPath: string): string | null {
  const here = fileURLToPath(moduleUrl);
  const sibling = resolve(here, '..', entry);
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  const built = resolve(PACKAGE_ROOT, distPath);
  return existsSync(built) ? built : null;
}

interface Reply {
  id: number;
  ok: boolean;
  /** A message on the way to the reply (handed to the request's `onProgress`; the request stays open). */
  progress?: unknown;
  res?: unknown;
  bytes?: Uint8Array;
  error?: string;
}

interface Pending {
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (p: unknown) => void;
}

export class WorkerRpc {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  /** Closed: requests are refused (a thread is not started again after its owner stopped it). */
  private closed = false;

  /**
   * @param name how errors name the thread (`model thread`).
   * @param failMessage the rejection when the thread answers `ok: false` without an error.
   * @param requireResult an `ok` reply without `res` or `bytes` is a failure too.
   * @param youngGenerationMb the thread's young generation (see `tuneHeap`: the launch line's semi-space
   *   size is the main thread's alone): 8 for threads that build objects, 2 (V8's least) for bytes work.
   */
  constructor(
    private readonly script: string,
    private readonly name: string,
    private readonly failMessage: string,
    private readonly requireResult: boolean,
    private readonly youngGenerationMb = 8,
  ) {}

  /**
   * Sends `{id, ...body}` (transferring `transfer`) and resolves with the reply's `res ?? bytes`; messages
   * `{id, progress}` before the reply go to `onProgress`.
   */
  request(
    body: Record<string, unknown>,
    transfer: readonly Transferable[] = [],
    onProgress?: (p: unknown) => void,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`${this.name} closed`));
    const w = this.ensure();
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, onProgress ? { resolve, reject, onProgress } : { resolve, reject });
      w.postMessage({ id, ...body }, [...transfer]);
    });
  }

  /** Posts a message that expects no reply (transferring `transfer`), only to a thread already running. */
  postIfRunning(msg: unknown, transfer: readonly Transferable[] = []): void {
    this.worker?.postMessage(msg, [...transfer]);
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    // A small young generation keeps the thread's peak RSS down: its work allocates fast and dies young.
    // workerData: how much the thread lowers its own priority (lib/thread-priority.ts).
    const w = new Worker(this.script, {
      resourceLimits: { maxYoungGenerationSizeMb: this.youngGenerationMb },
      workerData: threadNiceData(),
    });
    w.unref();
    w.on('message', (msg: Reply) => {
      if (isThreadNiceFailure(msg)) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.progress !== undefined) {
        p.onProgress?.(msg.progress);
        return;
      }
      this.pending.delete(msg.id);
      const result = msg.res ?? msg.bytes;
      if (msg.ok && (result !== undefined || !this.requireResult)) p.resolve(result);
      else p.reject(new Error(msg.error ?? this.failMessage));
    });
    const fail = (err: Error): void => {
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`${this.name} exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  /** Stops the thread; later requests are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
