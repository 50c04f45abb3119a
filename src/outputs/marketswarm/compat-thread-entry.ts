/**
 * @module Entry point of the compat thread: builds MarketSwarm's outputs from an epoch's substrate columns.
 */
import { parentPort } from 'node:worker_threads';
import { lowerThisThread } from '../../lib/thread-priority.js';
import { compatPool } from './byte-pool.js';
import { buildMarketSwarmFromColumns, compatBuffers, type CompatBuildRequest } from './build.js';

// Before any work: this thread yields the core to the main thread's event loop (CHAIN_THREAD_NICE).
lowerThisThread();

parentPort?.on('message', (msg: { id: number; req: CompatBuildRequest; recycle?: ArrayBuffer[] }) => {
  if (msg.recycle) {
    // A written build's buffers, handed back: the next builds write into them.
    compatPool.give(msg.recycle);
    return;
  }
  try {
    const res = buildMarketSwarmFromColumns(msg.req);
    parentPort?.postMessage({ id: msg.id, ok: true, res }, compatBuffers(res));
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, ok: false, error: (err as Error).message });
  }
});
