/**
 * @module The JSON API: `/api/symbols`, `/api/models/{model}/{symbol}` (`?at=`: see history.ts),
 * `/api/history/{symbol}`, `/api/epochs`, `/api/analytics/{series}`. Reads Redis only; every key comes from the KeySchema.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb, constants as zlib } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ANALYTICS_SERIES, MODEL_NAMES, type AnalyticsSeries, type ModelName } from '../../redis/keys.js';
import { unixSeconds } from '../../lib/time.js';
import { readSeries } from '../../wiring/analytics.js';
import { inspect } from '../inspect.js';
import { modelAge, type ModelAge } from '../model-age.js';
import { noteOfDocument, readModelNote } from '../sse.js';
import { resolveSymbol, type ServingContext } from './context.js';
import { HttpError, fromRedis } from './errors.js';
import { ROUTE_SCHEMAS } from '../openapi.js';
import { answerModelAt, registerHistoryRoutes } from './history.js';

const gzip = promisify(gzipCb);

/** Bodies smaller than this are sent as they are. */
const GZIP_MIN_BYTES = 8 * 1024;

/** Default `since` of the analytics series: the last hour. */
export const DEFAULT_SERIES_WINDOW_MS = 3_600_000;
/** `since` above this is not Unix seconds (year 2286): most likely milliseconds. */
const MAX_SINCE_SEC = 1e10;

export function parseModel(input: string): ModelName {
  const m = MODEL_NAMES.find((n) => n === input.toLowerCase());
  if (m) return m;
  throw new HttpError(
    404,
    'unknown_model',
    `unknown model ${JSON.stringify(input.slice(0, 40))}; models: ${MODEL_NAMES.join(', ')}`,
  );
}

function parseSeries(input: string): AnalyticsSeries {
  const s = ANALYTICS_SERIES.find((n) => n === input);
  if (s) return s;
  throw new HttpError(
    404,
    'unknown_series',
    `unknown series ${JSON.stringify(input.slice(0, 40))}; series: ${ANALYTICS_SERIES.join(', ')}`,
  );
}

/** A query value given once (a repeated parameter is a 400). */
export function queryOne(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, 'bad_query', `${name}: give it once`);
  return v;
}

/** Whether the request accepts gzip (`gzip;q=0` does not). */
export function acceptsGzip(req: FastifyRequest): boolean {
  const h = req.headers['accept-encoding'];
  return typeof h === 'string' && /\bgzip\b(?!;q=0(?:\.0*)?(?:,|$))/i.test(h);
}

/**
 * Gzipped model bodies, one per key, reused while the stored string is unchanged (a 5 MB heatmap
 * compresses to about 0.45 MB once per published version, not once per request).
 */
class GzipCache {
  private readonly entries = new Map<string, { doc: string; gz: Promise<Buffer> }>();

  get(key: string, doc: string): Promise<Buffer> {
    const hit = this.entries.get(key);
    if (hit && hit.doc === doc) return hit.gz;
    const gz = gzip(doc, { level: 6, strategy: zlib.Z_DEFAULT_STRATEGY });
    const entry = { doc, gz };
    this.entries.set(key, entry);
    gz.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return gz;
  }
}

function etagOf(note: { epoch_id: string; ts: string | null } | null, length: number): string | undefined {
  if (!note) return undefined;
  return `W/"${Buffer.from(`${note.epoch_id}|${note.ts ?? ''}|${length}`).toString('base64url')}"`;
}

/**
 * How long a request waits for Redis on a cluster: reads are retried through a reshard or a failover
 * (a replica is promoted ~2 × cluster-node-timeout after its master dies), so allow for that before a 503.
 */
export const CLUSTER_READ_TIMEOUT_MS = 8_000;

export function registerApiRoutes(app: FastifyInstance, ctx: ServingContext): void {
  const { bus, keys } = ctx.deps;
  const gzCache = new GzipCache();
  /** A Redis read, retried on a cluster like writes are; a failure or a timeout is a 503. */
  const read = <T>(fn: Parameters<typeof bus.read<T>>[0], timeoutMs?: number): Promise<T> =>
    fromRedis(bus.read(fn), timeoutMs ?? (bus.isCluster ? CLUSTER_READ_TIMEOUT_MS : undefined));

  const staleAfterSec = ctx.deps.config.staleAfterSec;

  app.get('/api/symbols', { schema: ROUTE_SCHEMAS.symbols }, async (_req, reply) => {
    const now = Date.now();
    const symbols = await Promise.all(
      ctx.symbols.map(async (symbol) => {
        const notes = await Promise.all(
          MODEL_NAMES.map((m) => read(() => readModelNote(bus, keys, m, symbol))),
        );
        const models = Object.fromEntries(MODEL_NAMES.map((m, i) => [m, notes[i] !== null])) as Record<
          ModelName,
          boolean
        >;
        // How old each model is now (null when absent), judged at read time from its as_of.
        const age = Object.fromEntries(
          MODEL_NAMES.map((m, i) => {
            const note = notes[i];
            return [
              m,
              note ? modelAge({ as_of: note.as_of, stale: note.built_stale }, now, staleAfterSec) : null,
            ];
          }),
        ) as Record<ModelName, ModelAge | null>;
        const ticker = ctx.deps.config.symbols.find((s) => s === symbol || s === `I:${symbol}`) ?? symbol;
        return { symbol, ticker, models, age };
      }),
    );
    void reply.header('cache-control', 'no-store');
    return { symbols };
  });

  app.get<{ Params: { model: string; symbol: string } }>(
    '/api/models/:model/:symbol',
    { schema: ROUTE_SCHEMAS.model },
    async (req, reply: FastifyReply) => {
      const model = parseModel(req.params.model);
      const symbol = resolveSymbol(ctx, req.params.symbol);
      const at = queryOne(req, 'at');
      if (at !== undefined) {
        // A past version, from the history (CHAIN_MODEL_HISTORY_SEC).
        return answerModelAt(ctx, req, reply, model, symbol, at, (p) =>
          fromRedis(p, bus.isCluster ? CLUSTER_READ_TIMEOUT_MS : 10_000),
        );
      }
      const key = keys.model(model, symbol);
      const doc = await read((r) => r.get(key));
      if (doc === null) {
        throw new HttpError(404, 'model_not_found', `no ${model} model published for ${symbol} yet`);
      }
      const note = noteOfDocument(model, symbol, doc);
      const etag = etagOf(note, doc.length);
      // The body is the stored document, byte for byte; how old it is now (and so whether it is stale,
      // whatever it said when it was built) is in the headers.
      const age = modelAge({ as_of: note?.as_of, stale: note?.built_stale }, Date.now(), staleAfterSec);
      void reply
        .header('cache-control', 'no-cache')
        .header('vary', 'accept-encoding')
        .header('x-model-stale', String(age.stale))
        .type('application/json; charset=utf-8');
      if (age.as_of !== null) void reply.header('x-model-as-of', age.as_of);
      if (age.age_sec !== null) void reply.header('x-model-age-seconds', String(age.age_sec));
      if (etag) {
        void reply.header('etag', etag);
        if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      }
      if (doc.length >= GZIP_MIN_BYTES && acceptsGzip(req)) {
        const body = await gzCache.get(key, doc);
        return reply.header('content-encoding', 'gzip').send(body);
      }
      // The stored string, exactly as published.
      return reply.send(doc);
    },
  );

  registerHistoryRoutes(app, ctx, bus.isCluster ? CLUSTER_READ_TIMEOUT_MS : undefined);

  app.get('/api/epochs', { schema: ROUTE_SCHEMAS.epochs }, async (_req, reply) => {
    const view = await read(() => inspect(bus, keys, [...ctx.symbols]), 10_000);
    void reply.header('cache-control', 'no-store');
    return view;
  });

  app.get<{ Params: { series: string } }>(
    '/api/analytics/:series',
    { schema: ROUTE_SCHEMAS.analytics },
    async (req, reply) => {
      const series = parseSeries(req.params.series);
      const sinceRaw = queryOne(req, 'since');
      const symbolRaw = queryOne(req, 'symbol');
      // `since` is Unix seconds (fractional allowed), the unit the series are stored in; a value that can
      // only be milliseconds is refused rather than silently matching nothing.
      let since = unixSeconds(Date.now() - DEFAULT_SERIES_WINDOW_MS);
      if (sinceRaw !== undefined) {
        if (!/^\d{1,11}(\.\d{1,6})?$/.test(sinceRaw) || Number(sinceRaw) > MAX_SINCE_SEC) {
          throw new HttpError(
            400,
            'bad_query',
            `since: expected Unix seconds (a non-negative number below 1e10), got ${JSON.stringify(sinceRaw.slice(0, 40))}`,
          );
        }
        since = Number(sinceRaw);
      }
      const symbol =
        symbolRaw === undefined || symbolRaw === '' ? undefined : resolveSymbol(ctx, symbolRaw, 400);
      const points = await read(() => readSeries(bus, keys, series, since, symbol));
      void reply.header('cache-control', 'no-store');
      return { series, symbol: symbol ?? null, since, points };
    },
  );
}
