/**
 * @module Runs model builds on a worker thread (one, started lazily, restarted if it dies), so the main
 * event loop keeps serving health checks and SSE during a burst. Falls back to building in-process when
 * the compiled thread script is not available (running from TypeScript sources without a build).
 */
import { threadScript, WorkerRpc } from '../lib/worker-rpc.js';
import { buildModels, type BuildRequest, type BuildResponse } from './build-models.js';

export class ModelThread {
  private readonly script = threadScript(
    import.meta.url,
    'model-thread-entry.js',
    'dist/src/models/model-thread-entry.js',
  );
  private readonly rpc = this.script
    ? new WorkerRpc(this.script, 'model thread', 'model build failed', true)
    : null;
  private closed = false;

  /** Builds both models off the main thread (or inline when no thread script exists). */
  build(req: BuildRequest): Promise<BuildResponse> {
    if (this.closed) return Promise.reject(new Error('model thread closed'));
    if (!this.rpc) return Promise.resolve(buildModels(req));
    return this.rpc.request({ req }, [req.substrates.buffer as ArrayBuffer]) as Promise<BuildResponse>;
  }

  /** Stops the thread. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.rpc?.close();
  }
}
