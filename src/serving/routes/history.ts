/**
 * @module The history API: `GET /api/models/{model}/{symbol}?at=ISO` (the version in force then, byte for
 * byte as published) and `GET /api/history/{symbol}` (the GEX levels through time, one row per version).
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseIsoInstant } from '../../lib/time.js';
import type { ModelName } from '../../redis/keys.js';
import { readSeries, versionAt } from '../../outputs/history/read.js';
import { parseFields } from '../../outputs/history/rows.js';
import { ROUTE_SCHEMAS } from '../openapi.js';
import { resolveSymbol, type ServingContext } from './context.js';
import { HttpError, fromRedis } from './errors.js';

const gzip = promisify(gzipCb);

/** An instant this far past the server's clock is still "now" (clock skew between client and server). */
const FUTURE_SLACK_MS = 5_000;
/** Default span of `/api/history` when the history is off (only the current model is there to find). */
const DEFAULT_SPAN_MS = 86_400_000;
const MAX_STEP_SEC = 86_400;

function instant(name: string, raw: string): number {
  const t = parseIsoInstant(raw);
  if (t === null) {
    throw new HttpError(
      400,
      'bad_query',
      `${name}: expected an ISO-8601 instant with its offset, e.g. 2026-01-07T15:30:00Z, got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  }
  if (t > Date.now() + FUTURE_SLACK_MS) {
    throw new HttpError(400, 'bad_query', `${name}: ${raw.slice(0, 40)} is in the future`);
  }
  return t;
}

function queryValue(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, 'bad_query', `${name}: give it once`);
  return v;
}

function acceptsGzip(req: FastifyRequest): boolean {
  const h = req.headers['accept-encoding'];
  return typeof h === 'string' && /\bgzip\b(?!;q=0(?:\.0*)?(?:,|$))/i.test(h);
}

/** Answers `/api/models/{model}/{symbol}?at=…`: the version in force at `at`, as published. */
export async function answerModelAt(
  ctx: ServingContext,
  req: FastifyRequest,
  reply: FastifyReply,
  model: ModelName,
  symbol: string,
  atRaw: string,
  read: <T>(p: Promise<T>) => Promise<T>,
): Promise<FastifyReply> {
  const atMs = instant('at', atRaw);
  const retentionSec = ctx.deps.config.modelHistorySec;
  const oldest = Date.now() - retentionSec * 1000;
  if (retentionSec > 0 && atMs < oldest) {
    throw new HttpError(
      404,
      'before_retention',
      `at ${new Date(atMs).toISOString()} is before the history kept (CHAIN_MODEL_HISTORY_SEC ${retentionSec}: from ${new Date(oldest).toISOString()})`,
    );
  }
  const found = await read(versionAt(ctx.deps.bus, ctx.deps.keys, model, symbol, atMs));
  if (found === null) {
    throw new HttpError(
      404,
      'history_not_found',
      `no ${model} model of ${symbol} was published at or before ${new Date(atMs).toISOString()} (in the history kept)`,
    );
  }
  void reply
    .header('cache-control', 'no-cache')
    .header('vary', 'accept-encoding')
    .header('x-model-version', found.version)
    .header('x-model-published', new Date(found.tsMs).toISOString())
    .type('application/json; charset=utf-8');
  if (found.bytes.length >= 8 * 1024 && acceptsGzip(req)) {
    return reply.header('content-encoding', 'gzip').send(await gzip(found.bytes));
  }
  return reply.send(found.bytes);
}

export function registerHistoryRoutes(app: FastifyInstance, ctx: ServingContext, timeoutMs?: number): void {
  const { bus, keys, config } = ctx.deps;
  app.get<{ Params: { symbol: string } }>(
    '/api/history/:symbol',
    { schema: ROUTE_SCHEMAS.history },
    async (req, reply) => {
      const symbol = resolveSymbol(ctx, req.params.symbol);
      const now = Date.now();
      const fromRaw = queryValue(req, 'from');
      const toRaw = queryValue(req, 'to');
      const stepRaw = queryValue(req, 'step');
      const toMs = toRaw === undefined || toRaw === '' ? now : instant('to', toRaw);
      const span = config.modelHistorySec > 0 ? config.modelHistorySec * 1000 : DEFAULT_SPAN_MS;
      const fromMs = fromRaw === undefined || fromRaw === '' ? now - span : instant('from', fromRaw);
      if (fromMs > toMs) throw new HttpError(400, 'bad_query', 'from: after to');
      let fields;
      try {
        fields = parseFields(queryValue(req, 'fields'));
      } catch (err) {
        throw new HttpError(400, 'bad_query', `fields: ${(err as Error).message}`);
      }
      let stepSec = 0;
      if (stepRaw !== undefined && stepRaw !== '') {
        if (!/^\d{1,6}$/.test(stepRaw) || Number(stepRaw) > MAX_STEP_SEC) {
          throw new HttpError(
            400,
            'bad_query',
            `step: expected whole seconds from 0 to ${MAX_STEP_SEC}, got ${JSON.stringify(stepRaw.slice(0, 40))}`,
          );
        }
        stepSec = Number(stepRaw);
      }
      const series = await fromRedis(
        readSeries(bus, keys, symbol, { fromMs, toMs, fields, stepSec }),
        timeoutMs ?? 10_000,
      );
      void reply.header('cache-control', 'no-store');
      return series;
    },
  );
}
