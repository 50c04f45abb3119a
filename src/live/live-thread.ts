/**
 * @module A symbol's live thread, seen from the main thread: its {@link LiveSymbol} runs on a worker thread
 * of its own (one per symbol, so two symbols build side by side), started lazily and started again (empty)
 * if it dies. The main thread sends the snapshot's substrates once per REST snapshot (transferred, not
 * copied), then per build only the quotes, volumes and spot; it gets back the models' bytes and the changed
 * substrates' JSON. Runs in-process when the compiled thread script is not available.
 */
import { threadScript, WorkerRpc } from '../lib/worker-rpc.js';
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
      // A snapshot that does not parse is refused (the builder's parse fails on it too, and publishes
      // nothing): loaded as empty, every live build published models of no contracts over the snapshot's.
      state.unload();
      const b = op.substrates;
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'));
      } catch (err) {
        throw new Error(`live snapshot does not parse: ${(err as Error).message}`);
      }
      if (!Array.isArray(parsed)) throw new Error('live snapshot is not a JSON array');
      return state.load(parsed as ContractSubstrate[]);
    }
    case 'choose':
      return state.choose(op.req);
    case 'build':
      return state.build(op.req);
  }
}

export class LiveThread {
  private inline: LiveSymbol | undefined;
  private closed = false;
  private readonly rpc: WorkerRpc | null;

  constructor(
    script: string | null = threadScript(
      import.meta.url,
      'live-thread-entry.js',
      'dist/src/live/live-thread-entry.js',
    ),
  ) {
    this.rpc = script ? new WorkerRpc(script, 'live thread', 'live thread request failed', false) : null;
  }

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
    if (!this.rpc) {
      this.inline ??= new LiveSymbol();
      try {
        return Promise.resolve(runLiveOp(this.inline, op));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return this.rpc.request({ op }, transfer);
  }

  /** Stops the thread. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.rpc?.close();
  }
}
