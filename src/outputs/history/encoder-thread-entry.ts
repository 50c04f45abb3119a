/**
 * @module Entry point of the history thread: encodes published versions into history records, and
 * rebuilds a version from its records (reads), off the main thread either way (encoder-lane.ts).
 */
import { parentPort } from 'node:worker_threads';
import { lowerThisThread } from '../../lib/thread-priority.js';
import { historyLane, isHistoryMessage } from './encoder-lane.js';

// Before any work: this thread yields the core to the main thread's event loop (CHAIN_THREAD_NICE).
lowerThisThread();

const handle = historyLane((msg, transfer) => parentPort?.postMessage(msg, transfer));

parentPort?.on('message', (msg: object) => {
  if (isHistoryMessage(msg)) handle(msg);
});
