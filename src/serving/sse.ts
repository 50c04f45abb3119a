/**
 * @module Server-Sent Events for the dashboard: the framing (`sse/framing.ts`), the model notes
 * (`sse/notes.ts`), and the hub (`sse/hub.ts`) that fans the
 * `massive:models` channel and the `massive:events` stream out to every connected browser over ONE shared
 * Redis subscriber and ONE shared stream reader.
 *
 * What an event carries: only the notification, never the model document. A `model` event's data is a
 * {@link ModelNote} (`{model, symbol, epoch_id, ts, as_of, stale, age_sec, built_stale, spot, contract_count,
 * partial, missing_expirations, url}`, a
 * few hundred bytes; `stale` and `age_sec` are judged when the note is sent)
 * and the page GETs `url` (`/api/models/{model}/{symbol}`) when it wants the document. Why:
 * - a heatmap of a 20,000-contract chain is about 5 MB of JSON; pushing it to every client on every cycle
 *   would fill each client's buffer far past the slow-client cap, and would send every symbol's documents
 *   to pages that show one symbol;
 * - the GET path is gzip-compressed (0.45 MB instead of 5.7 MB), cached per published version, supports
 *   `If-None-Match`, and the page fetches only what it renders; a burst of notifications collapses into
 *   one fetch of the latest document.
 *
 * Ids: the stream events (`massive:events`, sent as named events `epoch_promoted`, `health_changed`,
 * `dormant`, `recovered`, `shutdown`, `zero_gamma_crossed`, `regime_changed`, `wall_moved`) carry their
 * stream id as the SSE `id`; `hello` carries the client's resume point (its `Last-Event-ID`, or the newest
 * stream id when it connected); `model` notes and `heatmap_diff` carry no `id`. Per the SSE spec a message without `id:`
 * leaves the browser's last event id as it was, so on reconnect `Last-Event-ID` is always a stream id and
 * the server resumes exactly: every event after it still in the stream (XRANGE), then live ones, none lost
 * and none repeated. Models are state, not deltas: a new connection, or a reconnect, first receives the
 * current note of every model it subscribed to, then live notes. `symbols=` filters both (a worker-wide
 * `shutdown` goes to every client). A `: ping` comment goes out every `heartbeatMs`.
 *
 * Slow clients: writes never wait. Each client's unsent bytes (`res.writableLength`) are checked after
 * every write; over `maxBufferedBytes` the client is disconnected (socket destroyed) and counted in
 * `chain_worker_sse_dropped_total`, so a stalled reader costs at most the cap and never delays the others.
 */
export { formatComment, formatSse, type SseFrame } from './sse/framing.js';
export { modelUrl, noteAt, noteOfDocument, readModelNote, scanHeader, type ModelNote } from './sse/notes.js';
export {
  MAX_ECHOED_EVENT_ID,
  SSE_DEFAULTS,
  SseHub,
  type SseHubDeps,
  type SseOptions,
  type Subscription,
} from './sse/hub.js';
