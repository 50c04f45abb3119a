/**
 * @module Runs the history encoder on a worker thread of its own (started lazily, restarted if it dies:
 * then every stream starts again with a keyframe), so parsing, diffing and compressing a 6 MB heatmap never
 * holds the main event loop. Falls back to encoding in-process when the compiled thread script is absent
 * (running from TypeScript sources without a build).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../../lib/repo-paths.js';
import { HistoryEncoder, type EncodeRequest, type EncodeResult } from './encoder.js';
import { reconstruct } from './record.js';

interface Pending {
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

function threadScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  const sibling = here.replace(/encoder-thread\.(ts|js)$/, 'encoder-thread-entry.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  const built = resolve(PACKAGE_ROOT, 'dist/src/outputs/history/encoder-thread-entry.js');
  return existsSync(built) ? built : null;
}

export class EncoderThread {
  private worker: Worker | undefined;
  private inline: HistoryEncoder | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closed = false;
  private readonly script = threadScript();

  encode(req: EncodeRequest): Promise<EncodeResult> {
    if (this.closed) return Promise.reject(new Error('history thread closed'));
    if (!this.script) {
      this.inline ??= new HistoryEncoder();
      try {
        return Promise.resolve(this.inline.encode(req));
      } catch (err) {
        this.inline.reset(req.stream);
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    const w = this.ensure(this.script);
    const id = ++this.seq;
    return new Promise<EncodeResult>((resolve, reject) => {
      this.pending.set(id, { resolve: (r) => resolve(r as EncodeResult), reject });
      w.postMessage({ id, req }, [req.published.buffer as ArrayBuffer]);
    });
  }

  /** The published bytes of a version from its records, keyframe first (see record.ts), on the thread. */
  reconstruct(records: readonly Buffer[]): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('history thread closed'));
    if (!this.script) {
      try {
        return Promise.resolve(reconstruct([...records]));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    const w = this.ensure(this.script);
    const id = ++this.seq;
    // Copies: Redis reply buffers may share one allocation, and these move to the thread.
    const copies = records.map((r) => new Uint8Array(r));
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => {
          const u = r as Uint8Array;
          resolve(Buffer.from(u.buffer, u.byteOffset, u.byteLength));
        },
        reject,
      });
      w.postMessage(
        { id, records: copies },
        copies.map((c) => c.buffer),
      );
    });
  }

  /** The stream's next version will be a keyframe. */
  reset(stream: string): void {
    this.inline?.reset(stream);
    this.worker?.postMessage({ id: 0, reset: stream });
  }

  private ensure(script: string): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    w.unref();
    w.on(
      'message',
      (msg: { id: number; ok: boolean; res?: EncodeResult; bytes?: Uint8Array; error?: string }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.ok && (msg.res ?? msg.bytes)) p.resolve(msg.res ?? msg.bytes);
        else p.reject(new Error(msg.error ?? 'history thread failed'));
      },
    );
    const fail = (err: Error): void => {
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`history thread exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
