/**
 * @module Runs model builds on a worker thread (one, started lazily, restarted if it dies), so the main
 * event loop keeps serving health checks and SSE during a burst. Falls back to building in-process when
 * the compiled thread script is not available (running from TypeScript sources without a build).
 */
import { threadScript, WorkerRpc } from '../lib/worker-rpc.js';
import { buildModels, type BuildRequest, type BuildResponse } from './build-models.js';
import type { SubstrateColumns } from './substrate-columns.js';

export class ModelThread {
  private readonly script = threadScript(
    import.meta.url,
    'model-thread-entry.js',
    'dist/src/models/model-thread-entry.js',
  );
  // A 4 MB young generation (WorkerRpc's default is 8): three interleaved pairs at 20,000 contracts, peak
  // RSS 4–9 MB less, the burst unchanged (the performance log, 4 Dec); at 2 MB the builds were 5–25 % slower.
  private readonly rpc = this.script
    ? new WorkerRpc(this.script, 'model thread', 'model build failed', true, 4)
    : null;
  private closed = false;

  /**
   * Builds both models off the main thread (or inline when no thread script exists); with `req.compat`,
   * `onColumns` gets the substrate columns before the models come back.
   */
  build(req: BuildRequest, onColumns?: (columns: SubstrateColumns) => void): Promise<BuildResponse> {
    if (this.closed) return Promise.reject(new Error('model thread closed'));
    if (!this.rpc) {
      try {
        return Promise.resolve(buildModels(req, onColumns));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return this.rpc.request(
      { req },
      [req.substrates.buffer as ArrayBuffer],
      onColumns ? (p) => onColumns(p as SubstrateColumns) : undefined,
    ) as Promise<BuildResponse>;
  }

  /** The thread's RPC (null without a compiled thread script): the history lane runs on it too. */
  lane(): WorkerRpc | null {
    return this.rpc;
  }

  /** Stops the thread. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.rpc?.close();
  }
}

/** A model thread lent by {@link ModelThreadPool.acquire}; `release` gives it back (idempotent). */
export interface ModelThreadLease {
  thread: ModelThread;
  release(): void;
}

/**
 * Up to `size` model threads (`CHAIN_MODEL_THREADS`), each started on its first build: a build holds one
 * from just before its substrates are taken until the models come back, so as many epochs build at once
 * as there are threads, and the next epoch's build overlaps the previous one's writes.
 */
export class ModelThreadPool {
  private readonly threads: ModelThread[] = [];
  private readonly free: ModelThread[] = [];
  private readonly waiters: ((t: ModelThread) => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`model thread pool size ${size}: expected ≥ 1`);
  }

  /** A free thread (a new one while fewer than `size` exist), else the first one given back. */
  async acquire(): Promise<ModelThreadLease> {
    let thread = this.free.pop();
    if (!thread && this.threads.length < this.size) {
      thread = new ModelThread();
      this.threads.push(thread);
    }
    thread ??= await new Promise<ModelThread>((resolve) => this.waiters.push(resolve));
    const t = thread;
    let released = false;
    return {
      thread: t,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiters.shift();
        if (next) next(t);
        else this.free.push(t);
      },
    };
  }

  /**
   * The first thread's RPC, for the history (encoder-thread.ts): it encodes the published versions after
   * its builds, so the worker has no history thread of its own (one isolate, ~10–15 MB, fewer). The thread
   * is created (not started) if no build has made it yet. Null without a compiled thread script.
   */
  historyLane(): WorkerRpc | null {
    let first = this.threads[0];
    if (!first) {
      first = new ModelThread();
      this.threads.push(first);
      this.free.push(first);
    }
    return first.lane();
  }

  /** Stops every thread. Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
