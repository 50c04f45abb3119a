/**
 * @module `chain-worker/client`: the published models in a TypeScript app without re-implementing SSE.
 * `watchModels` yields every model as it is published — over the HTTP server's SSE stream (reconnects and
 * resumes with `Last-Event-ID`, via the `eventsource` package) or straight from Redis (pub/sub on
 * `massive:models` + GET) — and `getModel` reads one. Types come from the published JSON Schemas' source.
 *
 * @example
 * import { watchModels } from 'chain-worker/client';
 * for await (const u of watchModels({ url: 'http://127.0.0.1:8080', symbols: ['SPX'], models: ['gex'] })) {
 *   if (u.model === 'gex') console.log(u.symbol, u.document.levels.zero_gamma);
 * }
 */
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { redactUrl } from '../config/load.js';
import { KeySchema, type ModelName } from '../redis/keys.js';
import {
  CHAIN_EVENT_TYPES,
  type GexModelDoc,
  type HeatmapModelDoc,
  type SseModelNote,
} from '../schemas/published.js';
import { AsyncQueue } from './async-queue.js';

export type { GexModelDoc, HeatmapModelDoc, SseModelNote } from '../schemas/published.js';
export type { ModelName } from '../redis/keys.js';

/** Where to read models from: the HTTP server, or Redis itself. */
export type ModelSource =
  | {
      /** Base URL of `chain-worker serve` / `run --http`, e.g. `http://127.0.0.1:8080`. */
      url: string;
      /** `CHAIN_WORKER_HTTP_TOKEN`, when the server requires one. */
      token?: string;
      /** How long one model GET may take, answer and body (default {@link DEFAULT_MODEL_TIMEOUT_MS}). */
      timeoutMs?: number;
    }
  | {
      /** `redis://…` of the market bus. */
      redis: string;
      /** `CHAIN_KEY_PREFIX` of the workers (default empty). */
      prefix?: string;
      /** How long one model read may take, connecting included (default {@link DEFAULT_MODEL_TIMEOUT_MS}). */
      timeoutMs?: number;
    };

/** How long `getModel` waits by default: a 5 MB heatmap over a slow link, not a server that never answers. */
export const DEFAULT_MODEL_TIMEOUT_MS = 30_000;

/** `getModel` got no complete answer within `timeoutMs` (the server accepted and stalled, or is too slow). */
export class ModelRequestTimeoutError extends Error {
  override readonly name = 'ModelRequestTimeoutError';
  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super(message);
  }
}

export interface ModelDocuments {
  gex: GexModelDoc;
  heatmap: HeatmapModelDoc;
}

/** One published model. */
export type ModelUpdate = {
  [M in ModelName]: {
    model: M;
    /** `{U}`, e.g. `SPX`. */
    symbol: string;
    epoch_id: string;
    document: ModelDocuments[M];
    /**
     * The stream's last SSE event id when this model arrived (a `massive:events` id: model notes carry none,
     * so this is the id of the `hello` or event before it): pass it as `lastEventId` to resume. Undefined
     * from Redis.
     */
    eventId?: string;
  };
}[ModelName];

export type WatchOptions = ModelSource & {
  /** `SPX` or `I:SPX`; default every configured symbol (SSE) — required with Redis. */
  symbols?: string[];
  /** Default both. */
  models?: ModelName[];
  /** Resume after this SSE event id. */
  lastEventId?: string;
  /** Stops the iteration (it ends without an error). */
  signal?: AbortSignal;
};

const underlying = (s: string): string => (s.startsWith('I:') ? s.slice(2) : s);

function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Reads one published model; null when none is published yet. */
export async function getModel<M extends ModelName>(
  source: ModelSource,
  model: M,
  symbol: string,
): Promise<ModelDocuments[M] | null> {
  const timeoutMs = source.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS;
  if ('url' in source) {
    const what = `GET /api/models/${model}/${symbol}`;
    // One deadline for the answer and its body: the signal aborts the body's read as well.
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetch(new URL(`/api/models/${model}/${encodeURIComponent(symbol)}`, source.url), {
        headers: authHeaders(source.token),
        signal,
      });
      if (res.status === 404) {
        await res.body?.cancel().catch(() => undefined);
        return null;
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw new Error(`${what}: HTTP ${res.status}`);
      }
      return (await res.json()) as ModelDocuments[M];
    } catch (err) {
      if (signal.aborted) {
        throw new ModelRequestTimeoutError(
          `${what}: no complete answer from ${redactUrl(source.url)} within ${timeoutMs} ms`,
          timeoutMs,
        );
      }
      throw err;
    }
  }
  const key = new KeySchema(source.prefix ?? '').model(model, underlying(symbol));
  const redis = new Redis(source.redis, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ModelRequestTimeoutError(
            `GET ${key}: no answer from ${redactUrl(source.redis)} within ${timeoutMs} ms`,
            timeoutMs,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    const doc = await Promise.race([redis.connect().then(() => redis.get(key)), deadline]);
    return doc === null ? null : (JSON.parse(doc) as ModelDocuments[M]);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/**
 * Every model as it is published, starting with the current ones. Models already seen (same epoch and
 * publish time, e.g. replayed after a reconnect) are not yielded twice. Ends when `signal` aborts or the
 * loop breaks; throws when the server refuses the stream (401, 400 …).
 */
export async function* watchModels(opts: WatchOptions): AsyncGenerator<ModelUpdate> {
  // Before anything is opened: returning after would leave the stream (or the Redis connections) open.
  if (opts.signal?.aborted) return;
  const queue = new AsyncQueue<ModelUpdate>();
  const stop = 'url' in opts ? watchSse(opts, queue) : watchRedis(opts, queue);
  const onAbort = (): void => queue.end();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const seen = new Map<string, string>();
  try {
    for await (const u of queue) {
      const key = `${u.model}:${u.symbol}`;
      const version = `${u.epoch_id}|${String(u.document.ts)}`;
      if (seen.get(key) === version) continue;
      seen.set(key, version);
      yield u;
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    stop();
  }
}

/** Statuses that mean "not now" (the stream is retried), not "never" (401, 400…: the iteration throws). */
const RETRIED_STATUSES = new Set([502, 503, 504]);

function watchSse(
  opts: WatchOptions & { url: string; token?: string },
  queue: AsyncQueue<ModelUpdate>,
): () => void {
  const url = new URL('/events', opts.url);
  if (opts.symbols) url.searchParams.set('symbols', opts.symbols.join(','));
  if (opts.models) url.searchParams.set('models', opts.models.join(','));
  if (opts.lastEventId) url.searchParams.set('lastEventId', opts.lastEventId);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS;
  const source = { url: opts.url, timeoutMs, ...(opts.token ? { token: opts.token } : {}) };
  const es = new EventSource(url, {
    fetch: async (input, init) => {
      // The stream's answer (its headers) within timeoutMs, or this attempt fails and is retried like a
      // dropped connection; the body then streams for as long as it lasts (the pings keep it alive).
      const outer = init.signal as AbortSignal | null | undefined; // es.close()
      const connect = new AbortController();
      const timer = setTimeout(() => connect.abort(), timeoutMs);
      let res: Response;
      try {
        res = await fetch(input, {
          ...init,
          signal: outer ? AbortSignal.any([outer, connect.signal]) : connect.signal,
          headers: { ...(init.headers as Record<string, string>), ...authHeaders(opts.token) },
        });
      } catch (err) {
        // Not an AbortError: EventSource retries any other failure, and gives up on an abort.
        if (connect.signal.aborted && !outer?.aborted)
          throw new Error(`SSE stream: no answer within ${timeoutMs} ms, retrying`);
        throw err;
      } finally {
        clearTimeout(timer);
      }
      // A server shutting down or full (503 shutting_down / too_many_clients), or a proxy in front of a
      // restarting one, answers for now only: a failed fetch, which EventSource retries after `retry`,
      // where any other non-200 status makes it give up for good.
      if (RETRIED_STATUSES.has(res.status)) {
        await res.body?.cancel().catch(() => undefined);
        throw new Error(`SSE stream: HTTP ${res.status}, retrying`);
      }
      return res;
    },
  });
  // Documents are fetched in arrival order, so updates keep the stream's order.
  let chain = Promise.resolve();
  // The last id the stream set (hello and the stream events carry one; model notes none, and this library
  // reports an empty lastEventId for them, unlike a browser).
  let lastId = opts.lastEventId ?? '';
  const track = (ev: MessageEvent<string>): void => {
    if (ev.lastEventId) lastId = ev.lastEventId;
  };
  for (const type of ['hello', ...CHAIN_EVENT_TYPES]) es.addEventListener(type, track);
  es.addEventListener('model', (ev: MessageEvent<string>) => {
    const eventId = ev.lastEventId || lastId;
    chain = chain.then(async () => {
      try {
        const note = JSON.parse(ev.data) as SseModelNote;
        const document = await getModel(source, note.model, note.symbol);
        if (document) {
          queue.push({
            model: note.model,
            symbol: note.symbol,
            epoch_id: note.epoch_id,
            document,
            eventId,
          } as ModelUpdate);
        }
      } catch {
        // A document that vanished or failed to load: the next publish brings a fresh one.
      }
    });
  });
  es.addEventListener('error', (ev) => {
    // The library reconnects by itself on network errors; CLOSED means it gave up (e.g. HTTP 401).
    if (es.readyState === EventSource.CLOSED) {
      const code = (ev as { code?: number }).code;
      queue.fail(new Error(`SSE stream refused${code !== undefined ? `: HTTP ${code}` : ''}`));
    }
  });
  return () => es.close();
}

function watchRedis(
  opts: WatchOptions & { redis: string; prefix?: string },
  queue: AsyncQueue<ModelUpdate>,
): () => void {
  if (!opts.symbols?.length) throw new Error('watchModels with redis: pass the symbols');
  const keys = new KeySchema(opts.prefix ?? '');
  const symbols = new Set(opts.symbols.map(underlying));
  const models = new Set<ModelName>(opts.models ?? ['gex', 'heatmap']);
  const reader = new Redis(opts.redis, { maxRetriesPerRequest: 2 });
  const sub = new Redis(opts.redis);
  reader.on('error', () => undefined);
  sub.on('error', () => undefined);
  const load = async (model: ModelName, symbol: string): Promise<void> => {
    const doc = await reader.get(keys.model(model, symbol)).catch(() => null);
    if (doc === null) return;
    try {
      const document = JSON.parse(doc) as ModelDocuments[ModelName];
      queue.push({ model, symbol, epoch_id: document.epoch_id, document } as ModelUpdate);
    } catch {
      // a torn or foreign value: skip it
    }
  };
  const loadAll = (): void => {
    for (const s of symbols) for (const m of models) void load(m, s);
  };
  sub.on('message', (_channel: string, message: string) => {
    try {
      const msg = JSON.parse(message) as { model?: ModelName; symbol?: string };
      if (msg.model && msg.symbol && models.has(msg.model) && symbols.has(msg.symbol))
        void load(msg.model, msg.symbol);
    } catch {
      // not a model note
    }
  });
  // (Re)subscribed: read the current models, which also covers anything missed while disconnected.
  sub.on('ready', loadAll);
  sub.subscribe(keys.modelsChannel).catch((err: unknown) => queue.fail(err as Error));
  return () => {
    sub.disconnect();
    reader.disconnect();
  };
}
