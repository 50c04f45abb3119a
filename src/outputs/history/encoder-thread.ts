/**
 * @module Runs the history encoder on a worker thread (the model thread's in the worker, after its
 * builds; else one of its own; started lazily, restarted if it dies: then every stream starts again
 * with a keyframe), so parsing, diffing and compressing a 6 MB heatmap never
 * holds the main event loop. Falls back to encoding in-process when the compiled thread script is absent
 * (running from TypeScript sources without a build).
 */
import { threadScript, WorkerRpc } from '../../lib/worker-rpc.js';
import { HistoryEncoder, type EncodeRequest, type EncodeResult } from './encoder.js';
import { reconstruct } from './record.js';

export class EncoderThread {
  private inline: HistoryEncoder | undefined;
  private closed = false;
  private readonly rpc: WorkerRpc | null;

  /**
   * @param shared a thread that runs the history lane beside its own work (the model thread's, see
   *   models/model-thread-entry.ts), owned and closed by whoever gave it; without one, a history thread of
   *   its own (V8's least young generation: its garbage is a version's bytes).
   */
  constructor(private readonly shared?: WorkerRpc) {
    const script = shared
      ? null
      : threadScript(
          import.meta.url,
          'encoder-thread-entry.js',
          'dist/src/outputs/history/encoder-thread-entry.js',
        );
    this.rpc =
      shared ?? (script ? new WorkerRpc(script, 'history thread', 'history thread failed', true, 2) : null);
  }

  encode(req: EncodeRequest): Promise<EncodeResult> {
    if (this.closed) return Promise.reject(new Error('history thread closed'));
    if (!this.rpc) {
      this.inline ??= new HistoryEncoder();
      try {
        return Promise.resolve(this.inline.encode(req));
      } catch (err) {
        this.inline.reset(req.stream);
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return this.rpc.request({ encode: req }, [req.published.buffer as ArrayBuffer]) as Promise<EncodeResult>;
  }

  /** The published bytes of a version from its records, keyframe first (see record.ts), on the thread. */
  reconstruct(records: readonly Buffer[]): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('history thread closed'));
    if (!this.rpc) {
      try {
        return Promise.resolve(reconstruct([...records]));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    // Copies: Redis reply buffers may share one allocation, and these move to the thread.
    const copies = records.map((r) => new Uint8Array(r));
    return this.rpc
      .request(
        { records: copies },
        copies.map((c) => c.buffer),
      )
      .then((r) => {
        const u = r as Uint8Array;
        return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
      });
  }

  /** The stream's next version will be a keyframe. */
  reset(stream: string): void {
    this.inline?.reset(stream);
    this.rpc?.postIfRunning({ id: 0, reset: stream });
  }

  /** Stops taking work; stops the thread unless it was {@link shared} (its owner closes it). */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.shared) await this.rpc?.close();
  }
}
