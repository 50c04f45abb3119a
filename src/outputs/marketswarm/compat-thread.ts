/**
 * @module Runs MarketSwarm's builds on a worker thread of their own (started lazily, restarted if it dies:
 * the next diff then sends every tile), beside the model thread: our models never wait for them. Falls
 * back to building in-process when the compiled thread script is absent (TypeScript sources, no build).
 */
import { threadScript, WorkerRpc } from '../../lib/worker-rpc.js';
import { buildMarketSwarmFromColumns, type CompatBuildRequest, type CompatResponse } from './build.js';

export class CompatThread {
  private closed = false;
  private readonly script = threadScript(
    import.meta.url,
    'compat-thread-entry.js',
    'dist/src/outputs/marketswarm/compat-thread-entry.js',
  );
  private readonly rpc = this.script
    ? new WorkerRpc(this.script, 'compat thread', 'compat build failed', true)
    : null;

  /** Builds off the main thread; `req.columns` is copied to the thread (~0.5 MB), never transferred. */
  build(req: CompatBuildRequest): Promise<CompatResponse> {
    if (this.closed) return Promise.reject(new Error('compat thread closed'));
    if (!this.rpc) {
      try {
        return Promise.resolve(buildMarketSwarmFromColumns(req));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return this.rpc.request({ req }) as Promise<CompatResponse>;
  }

  /**
   * Hands a written build's buffers back to the thread, which writes its next builds into them (see
   * byte-pool.ts); they are detached here. Only buffers no pending write still reads. Nothing to do when
   * building in-process or when the thread is gone (a new one allocates its own).
   */
  recycle(buffers: readonly ArrayBuffer[]): void {
    const live = [...new Set(buffers)].filter((b) => b.byteLength > 0);
    if (this.closed || live.length === 0) return;
    this.rpc?.postIfRunning({ id: 0, recycle: live }, live);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.rpc?.close();
  }
}
