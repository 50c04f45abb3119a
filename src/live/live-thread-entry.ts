/**
 * @module Entry point of a live thread: one symbol's {@link LiveSymbol}, answering the main thread's
 * requests (load a snapshot, choose subscriptions, build).
 */
import { parentPort } from 'node:worker_threads';
import { lowerThisThread } from '../lib/thread-priority.js';
import { LiveSymbol } from './live-symbol.js';
import { runLiveOp, type LiveOp } from './live-thread.js';

// Before any work: this thread yields the core to the main thread's event loop (CHAIN_THREAD_NICE).
lowerThisThread();

const state = new LiveSymbol();

parentPort?.on('message', (msg: { id: number; op: LiveOp }) => {
  try {
    const res = runLiveOp(state, msg.op);
    const transfer =
      res && typeof res === 'object' && 'gex' in res
        ? [res.gex.buffer as ArrayBuffer, res.heatmap.buffer as ArrayBuffer]
        : [];
    parentPort?.postMessage({ id: msg.id, ok: true, res }, transfer);
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, ok: false, error: (err as Error).message });
  }
});
