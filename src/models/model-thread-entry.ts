/**
 * @module Entry point of the model thread: answers build requests from the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { buildModels, type BuildRequest } from './build-models.js';

parentPort?.on('message', (msg: { id: number; req: BuildRequest }) => {
  try {
    parentPort?.postMessage({ id: msg.id, ok: true, res: buildModels(msg.req) });
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, ok: false, error: (err as Error).message });
  }
});
