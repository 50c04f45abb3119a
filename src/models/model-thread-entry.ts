/**
 * @module Entry point of the model thread: answers build requests from the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { buildModels, type BuildRequest } from './build-models.js';

parentPort?.on('message', (msg: { id: number; req: BuildRequest }) => {
  try {
    const res = buildModels(msg.req);
    parentPort?.postMessage({ id: msg.id, ok: true, res }, [
      res.gex.buffer as ArrayBuffer,
      res.heatmap.buffer as ArrayBuffer,
    ]);
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, ok: false, error: (err as Error).message });
  }
});
