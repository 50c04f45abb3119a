/**
 * @module `GET /events?symbols=SPX,NDX&models=gex,heatmap`: the live stream of model notes and
 * `massive:events` (see sse.ts for the format and how `Last-Event-ID` resumes).
 */
import type { FastifyInstance } from 'fastify';
import { MODEL_NAMES, type ModelName } from '../../redis/keys.js';
import { parseModel, queryOne } from './api.js';
import { resolveSymbol, type ServingContext } from './context.js';
import { HttpError } from './errors.js';
import { MAX_ECHOED_EVENT_ID } from '../sse.js';
import { ROUTE_SCHEMAS } from '../openapi.js';

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.length > 0 ? items : undefined;
}

export function registerEventRoutes(app: FastifyInstance, ctx: ServingContext): void {
  // No automatic HEAD route: a HEAD request must not become a stream.
  app.get('/events', { exposeHeadRoute: false, schema: ROUTE_SCHEMAS.events }, (req, reply) => {
    const symbolsRaw = list(queryOne(req, 'symbols'));
    const modelsRaw = list(queryOne(req, 'models'));
    const symbols = symbolsRaw ? symbolsRaw.map((s) => resolveSymbol(ctx, s, 400)) : [...ctx.symbols];
    let models: ModelName[] = [...MODEL_NAMES];
    if (modelsRaw) {
      models = modelsRaw.map((m) => {
        try {
          return parseModel(m);
        } catch (err) {
          throw err instanceof HttpError ? new HttpError(400, err.code, err.message) : err;
        }
      });
    }
    // Heatmap diffs are opt-in, per symbol (a page wants them for the symbol it draws only).
    const diffsRaw = list(queryOne(req, 'diffs'));
    const diffs = diffsRaw ? diffsRaw.map((s) => resolveSymbol(ctx, s, 400)) : [];
    const header = req.headers['last-event-id'];
    // A stream id resumes the events after it; anything else is only echoed (in `hello`), cut short.
    const lastEventId = (
      (typeof header === 'string' ? header : undefined) ?? queryOne(req, 'lastEventId')
    )?.slice(0, MAX_ECHOED_EVENT_ID);
    reply.hijack();
    ctx.hub
      .attach(req.raw, reply.raw, {
        symbols: new Set(symbols),
        models: new Set(models),
        diffs: new Set(diffs),
        lastEventId,
      })
      .catch((err: unknown) => {
        ctx.deps.logger.warn({ err: (err as Error).message }, 'SSE attach failed');
        reply.raw.destroy();
      });
  });
}
