/**
 * @module Runs model builds on a worker thread (one, started lazily, restarted if it dies), so the main
 * event loop keeps serving health checks and SSE during a burst. Falls back to building in-process when
 * the compiled thread script is not available (running from TypeScript sources without a build).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../lib/repo-paths.js';
import { buildModels, type BuildRequest, type BuildResponse } from './build-models.js';

interface Pending {
  resolve: (r: BuildResponse) => void;
  reject: (e: Error) => void;
}

function threadScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  const sibling = here.replace(/model-thread\.(ts|js)$/, 'model-thread-entry.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  const built = resolve(PACKAGE_ROOT, 'dist/src/models/model-thread-entry.js');
  return existsSync(built) ? built : null;
}

export class ModelThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closed = false;
  private readonly script = threadScript();

  /** Builds both models off the main thread (or inline when no thread script exists). */
  build(req: BuildRequest): Promise<BuildResponse> {
    if (this.closed) return Promise.reject(new Error('model thread closed'));
    if (!this.script) return Promise.resolve(buildModels(req));
    const w = this.ensure(this.script);
    const id = ++this.seq;
    return new Promise<BuildResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, req }, [req.substrates.buffer as ArrayBuffer]);
    });
  }

  private ensure(script: string): Worker {
    if (this.worker) return this.worker;
    // A small young generation keeps the thread's peak RSS down: builds allocate fast and die young.
    const w = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    w.unref();
    w.on('message', (msg: { id: number; ok: boolean; res?: BuildResponse; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok && msg.res) p.resolve(msg.res);
      else p.reject(new Error(msg.error ?? 'model build failed'));
    });
    const fail = (err: Error): void => {
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`model thread exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  /** Stops the thread. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
