/**
 * @module The SSE hub: fans the `massive:models` channel out to every connected browser over ONE shared
 * Redis subscriber, and `massive:events` over ONE shared stream reader (XREAD BLOCK on a connection of its
 * own); keeps the latest note of every model, drops slow clients. See `../sse.ts` for what an event carries
 * and why.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../../lib/logger.js';
import type { RedisBus } from '../../redis/bus.js';
import { MODEL_NAMES, type KeySchema, type ModelName } from '../../redis/keys.js';
import {
  compareIds,
  eventMatches,
  isStreamId,
  lastId,
  readAfter,
  readBlocking,
  type StoredEvent,
} from '../../outputs/events/read.js';
import type { Metrics } from '../metrics.js';
import { formatComment, formatSse } from './framing.js';
import { HeatmapDiffs } from './heatmap-diffs.js';
import { modelUrl, noteAt, readModelNote, type ModelNote } from './notes.js';

/** How much of a client's `Last-Event-ID` the hello event echoes (our ids are under 40 characters). */
export const MAX_ECHOED_EVENT_ID = 64;

export interface SseOptions {
  /** Concurrent streams; one more is answered 503 `too_many_clients`. @defaultValue 1000 */
  maxClients?: number;
  /** Period of the `: ping` comment. @defaultValue 15000 */
  heartbeatMs?: number;
  /** A client with more unsent bytes than this is disconnected. @defaultValue 8 MiB */
  maxBufferedBytes?: number;
  /** `retry:` sent to clients (EventSource reconnection delay). @defaultValue 3000 */
  retryMs?: number;
  /** How often cached notes are checked for turning stale (then sent again). @defaultValue 5000 */
  staleCheckMs?: number;
  /** How long one XREAD of `massive:events` blocks. @defaultValue 5000 */
  eventsBlockMs?: number;
}

export const SSE_DEFAULTS = {
  heartbeatMs: 15_000,
  maxClients: 1_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  retryMs: 3_000,
  staleCheckMs: 5_000,
  eventsBlockMs: 5_000,
} as const;

/** Events read per XRANGE page while a client catches up. */
const CATCH_UP_PAGE = 500;

/** `CHAIN_STALE_AFTER_SEC`'s default, for a hub built without it. */
const DEFAULT_STALE_AFTER_SEC = 120;

export interface SseHubDeps {
  bus: RedisBus;
  keys: KeySchema;
  logger: Logger;
  metrics: Metrics;
  /** Configured `{U}` symbols (resync after a subscriber reconnect looks at these). */
  symbols: readonly string[];
  /** A note's `stale` is judged at send time: `as_of` older than this (CHAIN_STALE_AFTER_SEC). */
  staleAfterSec?: number;
}

export interface Subscription {
  symbols: ReadonlySet<string>;
  models: ReadonlySet<ModelName>;
  /** Symbols whose heatmap versions the client wants as `heatmap_diff` events (also subscribed to). */
  diffs?: ReadonlySet<string> | undefined;
  lastEventId?: string | undefined;
}

interface Client {
  n: number;
  res: ServerResponse;
  sub: Subscription;
  /** False until the client has been sent the current models. */
  live: boolean;
  closed: boolean;
  /** Stream events: buffered in `pending` while the client catches up from its resume point, then live. */
  eventsLive: boolean;
  pending: StoredEvent[];
  /** The newest stream id sent (or caught up to): an event at or before it is never sent again. */
  lastSent: string | null;
}

/** Fans `massive:models` out to SSE clients; keeps the latest note of every model it has seen. */
export class SseHub {
  /** Process-unique start time: the first half of every event id. */
  readonly startMs = Date.now();
  private clientSeq = 0;
  private readonly clients = new Set<Client>();
  private readonly notes = new Map<string, ModelNote>();
  /** The `stale` last sent for each model: a note is sent again when its model turns stale. */
  private readonly sentStale = new Map<string, boolean | null>();
  private staleTimer: NodeJS.Timeout | undefined;
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
  /** Heatmap versions as diffs of changed tiles (`heatmap_diff`), sent before the version's note. */
  private readonly heatmapDiffs: HeatmapDiffs;
  /** The `massive:events` reader: its own connection (XREAD BLOCK holds it) and its position. */
  private tail: Redis | Cluster | undefined;
  private tailId: string | null = null;

  constructor(
    private readonly deps: SseHubDeps,
    opts: SseOptions = {},
  ) {
    this.opts = { ...SSE_DEFAULTS, ...opts };
    this.heatmapDiffs = new HeatmapDiffs(deps.bus, deps.keys);
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
    this.staleTimer = setInterval(() => this.resendTurnedStale(), this.opts.staleCheckMs);
    this.staleTimer.unref();
    void this.runTail();
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

  /**
   * Reads `massive:events` from its newest entry on, forever (until close), and hands each event to the
   * clients. After a Redis outage it goes on from the last id it read, so live clients miss nothing the
   * stream still holds.
   */
  private async runTail(): Promise<void> {
    const { bus, keys, logger } = this.deps;
    const conn = bus.duplicate();
    this.tail = conn;
    let warned = false;
    while (!this.stopped) {
      try {
        if (this.tailId === null) {
          const start = await lastId(conn, keys);
          // A client may have set the start meanwhile (attach): keep the earlier point.
          this.tailId ??= start;
        }
        const { events, next } = await readBlocking(conn, keys, this.tailId, this.opts.eventsBlockMs);
        this.tailId = next;
        for (const e of events) this.dispatchEvent(e);
        warned = false;
      } catch (err) {
        if (this.stopped) break;
        if (!warned)
          logger.warn({ err: (err as Error).message }, 'SSE: reading massive:events failed; retrying');
        warned = true;
        await new Promise((r) => setTimeout(r, 1_000).unref());
      }
    }
  }

  /** Sends a stream event to every client that wants it (buffered for a client still catching up). */
  private dispatchEvent(e: StoredEvent): void {
    let frame: string | undefined;
    for (const c of this.clients) {
      if (!eventMatches(e, c.sub.symbols)) continue;
      if (!c.eventsLive) {
        c.pending.push(e);
        continue;
      }
      // The catch-up's XRANGE may have sent it already (the reader's XREAD answered later).
      if (c.lastSent !== null && compareIds(e.id, c.lastSent) <= 0) continue;
      frame ??= formatSse({ event: e.type, id: e.id, data: e.json });
      this.write(c, frame);
      c.lastSent = e.id;
    }
  }

  /**
   * Sends a client every event after `resume` still in the stream (XRANGE, paged), then what arrived live
   * meanwhile (newer than the last id sent), then switches it to live delivery: none lost, none repeated.
   * When the stream cannot be read, the response is ended instead (the client resumes from its last id).
   */
  private async catchUp(c: Client, resume: string | null): Promise<void> {
    let at = resume;
    if (at !== null) {
      try {
        for (;;) {
          const page = await readAfter(this.deps.bus.cmd, this.deps.keys, at, CATCH_UP_PAGE);
          for (const e of page.events)
            if (eventMatches(e, c.sub.symbols))
              this.write(c, formatSse({ event: e.type, id: e.id, data: e.json }));
          at = page.next;
          if (!page.more || c.closed) break;
        }
      } catch (err) {
        // Going live now would skip the events not read (the client's last id would pass them): end the
        // stream instead, and the client reconnects with the last id it got (hello's or an event's).
        this.deps.logger.warn(
          { client: c.n, err: (err as Error).message },
          'SSE: events catch-up failed; stream ended for the client to resume',
        );
        this.detach(c);
        c.res.end();
        return;
      }
    }
    for (const e of c.pending) {
      if (at !== null && compareIds(e.id, at) <= 0) continue;
      this.write(c, formatSse({ event: e.type, id: e.id, data: e.json }));
      at = e.id;
    }
    c.pending = [];
    c.lastSent = at;
    c.eventsLive = true;
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
      // The channel carries Unix seconds.
      ts:
        typeof msg.ts === 'number' && Number.isFinite(msg.ts) ? new Date(msg.ts * 1000).toISOString() : null,
      as_of: null,
      stale: null,
      age_sec: null,
      built_stale: null,
      spot: null,
      contract_count: null,
      partial: null,
      missing_expirations: null,
      live_source: null,
      last_tick_ts: null,
      url: modelUrl(model, symbol),
    };
    if (model === 'heatmap') await this.sendHeatmapDiff(symbol);
    this.publish(note);
  }

  /** Live clients that asked for a symbol's heatmap diffs. */
  private diffListeners(symbol: string): Client[] {
    return [...this.clients].filter(
      (c) =>
        c.live &&
        c.sub.models.has('heatmap') &&
        c.sub.symbols.has(symbol) &&
        c.sub.diffs?.has(symbol) === true,
    );
  }

  /**
   * Sends the new heatmap version as a diff from the previous one (a client holding that previous version
   * applies it; any other refetches on the note that follows). Nothing is read for a symbol nobody hears.
   */
  private async sendHeatmapDiff(symbol: string): Promise<void> {
    if (this.diffListeners(symbol).length === 0) {
      this.heatmapDiffs.forget(symbol);
      return;
    }
    const frame = await this.heatmapDiffs.next(symbol).catch(() => null);
    if (!frame) return;
    // No `id:`, like model notes: the browser's last event id stays a `massive:events` stream id.
    const sse = formatSse({ event: 'heatmap_diff', data: frame.data });
    for (const c of this.diffListeners(symbol)) this.write(c, sse);
  }

  private async resync(): Promise<void> {
    const before = new Map(this.notes);
    this.heatmapDiffs.forget();
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

  /** The note as sent now: age and `stale` judged at send time. */
  private sendable(note: ModelNote): ModelNote {
    return noteAt(note, Date.now(), this.deps.staleAfterSec ?? DEFAULT_STALE_AFTER_SEC);
  }

  /** Sends again every known model whose staleness changed since it was last sent (a wedged builder). */
  private resendTurnedStale(): void {
    for (const [key, note] of this.notes)
      if (this.sendable(note).stale !== this.sentStale.get(key)) this.publish(note);
  }

  /** Records a note and sends it to every live client subscribed to it. */
  publish(note: ModelNote): void {
    const key = this.deps.keys.model(note.model, note.symbol);
    this.notes.set(key, note);
    const sent = this.sendable(note);
    this.sentStale.set(key, sent.stale);
    let frame: string | undefined;
    for (const c of this.clients) {
      if (!c.live || !c.sub.models.has(note.model) || !c.sub.symbols.has(note.symbol)) continue;
      // No `id:`: the browser's last event id stays the last stream event's (see ../sse.ts).
      frame ??= formatSse({ event: 'model', data: JSON.stringify(sent) });
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
    if (this.clients.size >= this.opts.maxClients) {
      this.deps.metrics.httpRejected.inc({ reason: 'sse_clients' });
      res.writeHead(503, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'retry-after': '5',
      });
      res.end(
        JSON.stringify({
          error: 'too_many_clients',
          message: `this server streams to at most ${this.opts.maxClients} clients (CHAIN_HTTP_MAX_SSE_CLIENTS)`,
        }),
      );
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
    const client: Client = {
      n: ++this.clientSeq,
      res,
      sub,
      live: false,
      closed: false,
      eventsLive: false,
      pending: [],
      lastSent: null,
    };
    this.clients.add(client);
    this.deps.metrics.sseClients.set(this.clients.size);
    res.on('close', () => this.detach(client));
    res.on('error', () => this.detach(client));

    // The resume point: the client's Last-Event-ID when it is a stream id, else the stream's newest entry
    // now (so a client that drops before any event resumes from here). Events arriving meanwhile are
    // buffered (the client is registered and not yet live).
    const newest = await lastId(this.deps.bus.cmd, this.deps.keys).catch(() => null);
    // The reader must start no later than this client's point (on a server just started it may not have).
    if (this.tailId === null && newest !== null) this.tailId = newest;
    // An id newer than the newest entry was never issued by this stream (a stream flushed and refilled,
    // another Redis, an id past 2^64 that XRANGE refuses): resuming after it would hold back every live
    // event older than it, so the client resumes from the newest entry instead.
    const asked = isStreamId(sub.lastEventId) ? sub.lastEventId : null;
    const resume = asked !== null && (newest === null || compareIds(asked, newest) <= 0) ? asked : newest;
    if (client.closed) return;
    const hello = {
      server: this.startMs,
      symbols: [...sub.symbols],
      models: [...sub.models],
      resumed_from: sub.lastEventId?.slice(0, MAX_ECHOED_EVENT_ID) ?? null,
      events_from: resume,
    };
    this.write(
      client,
      formatSse({
        retry: this.opts.retryMs,
        event: 'hello',
        ...(resume !== null ? { id: resume } : {}),
        data: JSON.stringify(hello),
      }),
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
        this.write(client, formatSse({ event: 'model', data: JSON.stringify(this.sendable(note)) }));
    });
    await this.catchUp(client, resume);
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
    if (this.staleTimer) clearInterval(this.staleTimer);
    this.staleTimer = undefined;
    for (const c of [...this.clients]) {
      this.detach(c);
      c.res.end();
    }
    const tail = this.tail;
    this.tail = undefined;
    // Not awaited: its blocked XREAD ends with the connection, and the loop sees `stopped`. Waiting here
    // would hold the listener open while reconnecting clients get 503 shutting_down.
    tail?.disconnect();
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
