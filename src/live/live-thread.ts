/**
 * @module A symbol's live thread, seen from the main thread: its {@link LiveSymbol} runs on a worker thread
 * of its own (one per symbol, so two symbols build side by side), started lazily and started again (empty)
 * if it dies. The main thread sends the snapshot's substrates once per REST snapshot (transferred, not
 * copied), then per build only the quotes, volumes and spot; it gets back the models' bytes and the changed
 * substrates' JSON. Runs in-process when the compiled thread script is not available.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../lib/repo-paths.js';
import type { ContractSubstrate } from '../normalizers/substrate.js';
import {
  LiveSymbol,
  type ChooseRequest,
  type ChooseResult,
  type LiveBuildRequest,
  type LiveBuildResult,
} from './live-symbol.js';

export type LiveOp =
  | { kind: 'load'; substrates: Uint8Array }
  | { kind: 'choose'; req: ChooseRequest }
  | { kind: 'build'; req: LiveBuildRequest };

/** Runs one request on a symbol's state (in the thread, or in-process). */
export function runLiveOp(state: LiveSymbol, op: LiveOp): number | ChooseResult | LiveBuildResult {
  switch (op.kind) {
    case 'load': {
      const b = op.substrates;
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'));
      } catch {
        parsed = [];
      }
      return state.load(Array.isArray(parsed) ? (parsed as ContractSubstrate[]) : []);
    }
    case 'choose':
      return state.choose(op.req);
    case 'build':
      return state.build(op.req);
  }
}

function threadScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  const sibling = here.replace(/live-thread\.(ts|js)$/, 'live-thread-entry.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  const built = resolve(PACKAGE_ROOT, 'dist/src/live/live-thread-entry.js');
  return existsSync(built) ? built : null;
}

interface Pending {
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

export class LiveThread {
  private worker: Worker | undefined;
  private inline: LiveSymbol | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closed = false;

  constructor(private readonly script: string | null = threadScript()) {}

  /** Loads a REST snapshot (a JSON array of substrates; its buffer is transferred). Resolves with the count. */
  load(substrates: Uint8Array): Promise<number> {
    return this.call({ kind: 'load', substrates }, [substrates.buffer as ArrayBuffer]) as Promise<number>;
  }

  choose(req: ChooseRequest): Promise<ChooseResult> {
    return this.call({ kind: 'choose', req }) as Promise<ChooseResult>;
  }

  build(req: LiveBuildRequest): Promise<LiveBuildResult> {
    return this.call({ kind: 'build', req }) as Promise<LiveBuildResult>;
  }

  private call(op: LiveOp, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('live thread closed'));
    if (!this.script) {
      this.inline ??= new LiveSymbol();
      try {
        return Promise.resolve(runLiveOp(this.inline, op));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    const w = this.ensure(this.script);
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, op }, transfer);
    });
  }

  private ensure(script: string): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    w.unref();
    w.on('message', (msg: { id: number; ok: boolean; res?: unknown; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.res);
      else p.reject(new Error(msg.error ?? 'live thread request failed'));
    });
    const fail = (err: Error): void => {
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`live thread exited with code ${code}`)));
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
