/**
 * @module Entry point of the model thread: answers build requests from the main thread and, for the
 * worker's history (outputs/history/encoder-lane.ts), encodes the published versions after them.
 *
 * Builds go first: a message is queued as it arrives and the next one is taken only after the event loop
 * has taken in every message that arrived meanwhile, a build before any history work. A history encode
 * of a burst heatmap takes 80–140 ms; the other symbol's build, arriving during it, waits for it only,
 * not for the encodes queued behind it.
 */
import { parentPort, type TransferListItem } from 'node:worker_threads';
import { lowerThisThread } from '../lib/thread-priority.js';
import { buildModels, type BuildRequest } from './build-models.js';
import { columnBuffers } from './substrate-columns.js';
import { historyLane, isHistoryMessage, type HistoryMessage } from '../outputs/history/encoder-lane.js';

// Before any work: this thread yields the core to the main thread's event loop (CHAIN_THREAD_NICE).
lowerThisThread();

interface BuildMessage {
  id: number;
  req: BuildRequest;
}

const post = (msg: unknown, transfer?: readonly TransferListItem[]): void =>
  parentPort?.postMessage(msg, transfer);
const history = historyLane(post);

function build(msg: BuildMessage): void {
  try {
    // MarketSwarm's columns go first, as soon as they are read: its build starts beside ours.
    const res = buildModels(msg.req, (columns) =>
      post({ id: msg.id, ok: true, progress: columns }, columnBuffers(columns)),
    );
    post({ id: msg.id, ok: true, res }, [res.gex.buffer as ArrayBuffer, res.heatmap.buffer as ArrayBuffer]);
  } catch (err) {
    post({ id: msg.id, ok: false, error: (err as Error).message });
  }
}

const builds: BuildMessage[] = [];
const historyWork: HistoryMessage[] = [];
let scheduled = false;

/** One message, a build first; then the next after a turn (the messages that arrived meanwhile are in). */
function next(): void {
  scheduled = false;
  const b = builds.shift();
  if (b) build(b);
  else {
    const h = historyWork.shift();
    if (h) history(h);
  }
  if (builds.length > 0 || historyWork.length > 0) schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(next);
}

parentPort?.on('message', (msg: BuildMessage | HistoryMessage) => {
  if (isHistoryMessage(msg)) historyWork.push(msg);
  else builds.push(msg);
  schedule();
});
