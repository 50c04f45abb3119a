/**
 * @module Entry point of the model thread: answers build requests from the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { lowerThisThread } from '../lib/thread-priority.js';
import { buildModels, type BuildRequest } from './build-models.js';
import { columnBuffers } from './substrate-columns.js';

// Before any work: this thread yields the core to the main thread's event loop (CHAIN_THREAD_NICE).
lowerThisThread();

parentPort?.on('message', (msg: { id: number; req: BuildRequest }) => {
  try {
    // MarketSwarm's columns go first, as soon as they are read: its build starts beside ours.
    const res = buildModels(msg.req, (columns) =>
      parentPort?.postMessage({ id: msg.id, ok: true, progress: columns }, columnBuffers(columns)),
    );
    parentPort?.postMessage({ id: msg.id, ok: true, res }, [
      res.gex.buffer as ArrayBuffer,
      res.heatmap.buffer as ArrayBuffer,
    ]);
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, ok: false, error: (err as Error).message });
  }
});
