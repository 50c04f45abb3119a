/**
 * @module Server-Sent Events for the dashboard: the framing, the model notes, and the hub that fans the
 * `massive:models` channel out to every connected browser over ONE shared Redis subscriber.
 *
 * What an event carries: only the notification, never the model document. A `model` event's data is a
 * {@link ModelNote} (`{model, symbol, epoch_id, ts, stale, spot, contract_count, url}`, a few hundred bytes)
 * and the page GETs `url` (`/api/models/{model}/{symbol}`) when it wants the document. Why:
 * - a heatmap of a 20,000-contract chain is about 5 MB of JSON; pushing it to every client on every cycle
 *   would fill each client's buffer far past the slow-client cap, and would send every symbol's documents
 *   to pages that show one symbol;
 * - the GET path is gzip-compressed (0.45 MB instead of 5.7 MB), cached per published version, supports
 *   `If-None-Match`, and the page fetches only what it renders; a burst of notifications collapses into
 *   one fetch of the latest document.
 *
 * Each event has an `id` `${startMs}-${seq}`, monotonic per server. Models are state, not deltas, so there
 * is no replay log: a new connection, or a reconnect with `Last-Event-ID`, first receives the current note
 * of every model it subscribed to, then live notes. A `: ping` comment goes out every `heartbeatMs`.
 *
 * Slow clients: writes never wait. Each client's unsent bytes (`res.writableLength`) are checked after
 * every write; over `maxBufferedBytes` the client is disconnected (socket destroyed) and counted in
 * `chain_worker_sse_dropped_total`, so a stalled reader costs at most the cap and never delays the others.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';
import type { RedisBus } from '../redis/bus.js';
import { MODEL_NAMES, type KeySchema, type ModelName } from '../redis/keys.js';
import type { Metrics } from './metrics.js';

// ── framing ─────────────────────────────────────────────────────────────────

export interface SseFrame {
  event?: string;
  id?: string;
  data?: string;
  retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** A field value that must stay on one line (`event`, `id`): CR, LF and NUL removed. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\0]/g, '');
}

/**
 * Formats one SSE message: `event:`, `id:`, `retry:`, then the data split on line breaks into several
 * `data:` lines, then the blank line that dispatches it.
 *
 * @example
 * formatSse({ event: 'model', id: '1-2', data: 'a\nb' }); // 'event: model\nid: 1-2\ndata: a\ndata: b\n\n'
 */
export function formatSse(frame: SseFrame): string {
  let out = '';
  if (frame.event !== undefined) out += `event: ${oneLine(frame.event)}\n`;
  if (frame.id !== undefined) out += `id: ${oneLine(frame.id)}\n`;
  if (frame.retry !== undefined && Number.isFinite(frame.retry))
    out += `retry: ${Math.max(0, Math.floor(frame.retry))}\n`;
  if (frame.data !== undefined) for (const line of frame.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment (ignored by EventSource; keeps proxies and idle timers from closing the stream). */
export function formatComment(text: string): string {
  return `${text
    .split(LINE_BREAK)
    .map((l) => `: ${l}\n`)
    .join('')}\n`;
}

// ── model notes ─────────────────────────────────────────────────────────────

/** What a `model` event says about one published model. */
export interface ModelNote {
  model: ModelName;
  symbol: string;
  epoch_id: string;
  /** The model's publish time (ISO-8601), as in the document. */
  ts: string | null;
  stale: boolean | null;
  spot: number | null;
  contract_count: number | null;
  /** Where to GET the document. */
  url: string;
}

export function modelUrl(model: ModelName, symbol: string): string {
  return `/api/models/${model}/${encodeURIComponent(symbol)}`;
}

/** Bytes read from the start of a model to find its header fields. */
const HEAD_BYTES = 2048;
const HEAD_FIELD =
  /"((?:[^"\\]|\\.)*)":(?:"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null))[,}]/y;

/**
 * Reads the leading primitive fields of a JSON object (`{"version":1,"model":"gex",...`) up to the first
 * nested value, without parsing the rest. Published models put their header first, so this finds
 * `epoch_id`, `ts`, `stale`... in the first few hundred bytes of a 5 MB document.
 */
export function scanHeader(prefix: string): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  if (!prefix.startsWith('{')) return out;
  HEAD_FIELD.lastIndex = 1;
  for (;;) {
    const m = HEAD_FIELD.exec(prefix);
    if (!m) break;
    try {
      const name = JSON.parse(`"${m[1] ?? ''}"`) as string;
      if (m[2] !== undefined) out[name] = JSON.parse(`"${m[2]}"`) as string;
      else if (m[3] !== undefined) out[name] = Number(m[3]);
      else out[name] = m[4] === 'true' ? true : m[4] === 'false' ? false : null;
    } catch {
      break;
    }
  }
  return out;
}

function noteFrom(model: ModelName, symbol: string, h: Record<string, unknown>): ModelNote | null {
  if (typeof h.epoch_id !== 'string') return null;
  return {
    model,
    symbol,
    epoch_id: h.epoch_id,
    ts: typeof h.ts === 'string' ? h.ts : null,
    stale: typeof h.stale === 'boolean' ? h.stale : null,
    spot: typeof h.spot === 'number' ? h.spot : null,
    contract_count: typeof h.contract_count === 'number' ? h.contract_count : null,
    url: modelUrl(model, symbol),
  };
}

/** The note of a published model string (`null` when it has no readable header). */
export function noteOfDocument(model: ModelName, symbol: string, doc: string): ModelNote | null {
  const quick = noteFrom(model, symbol, scanHeader(doc.slice(0, HEAD_BYTES)));
  if (quick) return quick;
  try {
    return noteFrom(model, symbol, JSON.parse(doc) as Record<string, unknown>);
  } catch {
    return null;
  }
}

/** Reads a model's header from Redis: GETRANGE of its first bytes, the full document only as a fallback. */
export async function readModelNote(
  bus: RedisBus,
  keys: KeySchema,
  model: ModelName,
  symbol: string,
): Promise<ModelNote | null> {
  const key = keys.model(model, symbol);
  const client = bus.client as Pick<Redis, 'getrange'>;
  const prefix = await client.getrange(key, 0, HEAD_BYTES - 1);
  if (prefix === '') return null;
  const quick = noteFrom(model, symbol, scanHeader(prefix));
  if (quick) return quick;
  const doc = await bus.cmd.get(key);
  return doc === null ? null : noteOfDocument(model, symbol, doc);
}

// ── the hub ─────────────────────────────────────────────────────────────────

export interface SseOptions {
  /** Period of the `: ping` comment. @defaultValue 15000 */
  heartbeatMs?: number;
  /** A client with more unsent bytes than this is disconnected. @defaultValue 8 MiB */
  maxBufferedBytes?: number;
  /** `retry:` sent to clients (EventSource reconnection delay). @defaultValue 3000 */
  retryMs?: number;
}

export const SSE_DEFAULTS = {
  heartbeatMs: 15_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  retryMs: 3_000,
} as const;

export interface SseHubDeps {
  bus: RedisBus;
  keys: KeySchema;
  logger: Logger;
  metrics: Metrics;
  /** Configured `{U}` symbols (resync after a subscriber reconnect looks at these). */
  symbols: readonly string[];
}

export interface Subscription {
  symbols: ReadonlySet<string>;
  models: ReadonlySet<ModelName>;
  lastEventId?: string | undefined;
}

interface Client {
  n: number;
  res: ServerResponse;
  sub: Subscription;
  /** False until the client has been sent the current models. */
  live: boolean;
  closed: boolean;
}

/** Fans `massive:models` out to SSE clients; keeps the latest note of every model it has seen. */
export class SseHub {
  /** Process-unique start time: the first half of every event id. */
  readonly startMs = Date.now();
  private seq = 0;
  private clientSeq = 0;
  private readonly clients = new Set<Client>();
  private readonly notes = new Map<string, ModelNote>();
  private readonly loads = new Map<string, Promise<ModelNote | null>>();
  /** Bumped when the cache is cleared, so a load started before cannot write an old note back. */
  private generation = 0;
  private sub: Redis | Cluster | undefined;
  private subscribed = false;
  private subscribing: Promise<void> | undefined;
  private readyCount = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Messages are handled one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private readonly opts: Required<SseOptions>;
  private stopped = false;

  constructor(
    private readonly deps: SseHubDeps,
    opts: SseOptions = {},
  ) {
    this.opts = { ...SSE_DEFAULTS, ...opts };
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Opens the shared subscriber (in the background) and starts the heartbeat. */
  start(): Promise<void> {
    const { bus, keys, logger } = this.deps;
    const sub = bus.duplicate();
    this.sub = sub;
    sub.on('message', (channel: string, message: string) => {
      if (channel === keys.modelsChannel) this.enqueue(() => this.onMessage(message));
    });
    sub.on('ready', () => {
      this.readyCount++;
      if (!this.subscribed) void this.subscribe();
      // A reconnect may have missed messages: reread every model and tell clients what changed.
      else if (this.readyCount > 1) this.enqueue(() => this.resync());
    });
    this.timer = setInterval(() => this.heartbeat(), this.opts.heartbeatMs);
    this.timer.unref();
    // Never block the server's start on Redis: /healthz must answer while Redis is away.
    void this.subscribe().then(() => {
      if (!this.subscribed && !this.stopped)
        logger.warn('SSE: models channel not subscribed yet (Redis?); retrying on reconnect');
    });
    return Promise.resolve();
  }

  private subscribe(): Promise<void> {
    const sub = this.sub;
    if (!sub || this.subscribed || this.stopped) return Promise.resolve();
    this.subscribing ??= sub
      .subscribe(this.deps.keys.modelsChannel)
      .then(() => {
        this.subscribed = true;
      })
      .catch((err: unknown) => {
        this.deps.logger.warn({ err: (err as Error).message }, 'SSE: subscribe failed');
      })
      .finally(() => {
        this.subscribing = undefined;
      });
    return this.subscribing;
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => {
      this.deps.logger.warn({ err: (err as Error).message }, 'SSE: message handling failed');
    });
  }

  private async onMessage(raw: string): Promise<void> {
    let msg: { model?: unknown; symbol?: unknown; epoch_id?: unknown; ts?: unknown };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      return;
    }
    const model = MODEL_NAMES.find((m) => m === msg.model);
    if (!model || typeof msg.symbol !== 'string' || typeof msg.epoch_id !== 'string') return;
    const symbol = msg.symbol;
    let note: ModelNote | null = null;
    try {
      note = await readModelNote(this.deps.bus, this.deps.keys, model, symbol);
    } catch {
      // Redis hiccup: announce what the message says.
    }
    note ??= {
      model,
      symbol,
      epoch_id: msg.epoch_id,
      ts: typeof msg.ts === 'number' && Number.isFinite(msg.ts) ? new Date(msg.ts).toISOString() : null,
      stale: null,
      spot: null,
      contract_count: null,
      url: modelUrl(model, symbol),
    };
    this.publish(note);
  }

  private async resync(): Promise<void> {
    const before = new Map(this.notes);
    this.generation++;
    this.notes.clear();
    for (const symbol of this.deps.symbols) {
      for (const model of MODEL_NAMES) {
        const note = await this.current(model, symbol).catch(() => null);
        const prev = before.get(this.deps.keys.model(model, symbol));
        if (note && (prev?.epoch_id !== note.epoch_id || prev.ts !== note.ts)) this.publish(note);
      }
    }
  }

  /** Records a note and sends it to every live client subscribed to it. */
  publish(note: ModelNote): void {
    this.notes.set(this.deps.keys.model(note.model, note.symbol), note);
    let frame: string | undefined;
    for (const c of this.clients) {
      if (!c.live || !c.sub.models.has(note.model) || !c.sub.symbols.has(note.symbol)) continue;
      frame ??= formatSse({ event: 'model', id: this.nextId(), data: JSON.stringify(note) });
      this.write(c, frame);
    }
  }

  /** The current note of a model (cached; read from Redis on a miss). Null when the model is absent. */
  async current(model: ModelName, symbol: string): Promise<ModelNote | null> {
    const key = this.deps.keys.model(model, symbol);
    const cached = this.notes.get(key);
    if (cached) return cached;
    let load = this.loads.get(key);
    if (!load) {
      const gen = this.generation;
      load = readModelNote(this.deps.bus, this.deps.keys, model, symbol)
        .then((note) => {
          if (note && gen === this.generation && !this.notes.has(key)) this.notes.set(key, note);
          return this.notes.get(key) ?? note;
        })
        .finally(() => this.loads.delete(key));
      this.loads.set(key, load);
    }
    return load;
  }

  nextId(): string {
    this.seq++;
    return `${this.startMs}-${this.seq}`;
  }

  /**
   * Takes over a response: writes the SSE headers, a `hello` event, then the current model of every
   * subscribed (model, symbol), then live notes until the client goes away.
   */
  async attach(req: IncomingMessage, res: ServerResponse, sub: Subscription): Promise<void> {
    if (this.stopped) {
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'shutting_down', message: 'the server is shutting down' }));
      return;
    }
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client: Client = { n: ++this.clientSeq, res, sub, live: false, closed: false };
    this.clients.add(client);
    this.deps.metrics.sseClients.set(this.clients.size);
    res.on('close', () => this.detach(client));
    res.on('error', () => this.detach(client));

    const hello = {
      server: this.startMs,
      symbols: [...sub.symbols],
      models: [...sub.models],
      resumed_from: sub.lastEventId ?? null,
    };
    this.write(
      client,
      formatSse({ retry: this.opts.retryMs, event: 'hello', id: this.nextId(), data: JSON.stringify(hello) }),
    );

    const pairs: [ModelName, string][] = [];
    for (const symbol of sub.symbols) for (const model of sub.models) pairs.push([model, symbol]);
    const loaded = await Promise.all(pairs.map(([m, s]) => this.current(m, s).catch(() => null)));
    if (client.closed) return;
    // From here on (same tick) the client gets every publish; send the newest known note of each model.
    client.live = true;
    pairs.forEach(([model, symbol], i) => {
      const note = this.notes.get(this.deps.keys.model(model, symbol)) ?? loaded[i];
      if (note && !client.closed)
        this.write(client, formatSse({ event: 'model', id: this.nextId(), data: JSON.stringify(note) }));
    });
  }

  private write(c: Client, chunk: string): void {
    if (c.closed || c.res.destroyed || c.res.writableEnded) return;
    c.res.write(chunk);
    if (c.res.writableLength > this.opts.maxBufferedBytes) this.drop(c);
  }

  private drop(c: Client): void {
    if (c.closed) return;
    this.deps.metrics.sseDropped.inc();
    this.deps.logger.warn(
      { client: c.n, buffered: c.res.writableLength, cap: this.opts.maxBufferedBytes },
      'SSE client too slow; disconnected',
    );
    this.detach(c);
    c.res.destroy();
  }

  private detach(c: Client): void {
    if (c.closed) return;
    c.closed = true;
    this.clients.delete(c);
    this.deps.metrics.sseClients.set(this.clients.size);
  }

  private heartbeat(): void {
    const ping = formatComment('ping');
    for (const c of this.clients) this.write(c, ping);
  }

  /** Ends every stream and closes the subscriber. Idempotent. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const c of [...this.clients]) {
      this.detach(c);
      c.res.end();
    }
    const sub = this.sub;
    this.sub = undefined;
    if (sub) {
      try {
        await Promise.race([sub.quit(), new Promise((r) => setTimeout(r, 1_000).unref())]);
      } catch {
        // already gone
      }
      sub.disconnect();
    }
    await this.queue;
  }
}
