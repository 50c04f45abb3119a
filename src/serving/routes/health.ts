/**
 * @module `/healthz` (alive), `/readyz` (Redis reachable and data fresh) and `/metrics` (Prometheus).
 */
import type { FastifyInstance } from 'fastify';
import { MODEL_NAMES } from '../../redis/keys.js';
import type { ServingContext } from './context.js';
import { fromRedis } from './errors.js';
import { ROUTE_SCHEMAS } from '../openapi.js';

/** How long `/readyz` waits for PING. */
export const READY_PING_TIMEOUT_MS = 1_000;

export interface ReadyBody {
  status: 'ready' | 'not_ready';
  mode: 'run' | 'serve';
  /** Present when not ready: why. */
  error?: 'not_ready';
  reason?: string;
  message?: string;
  redis: 'ok' | 'unreachable';
  /** Run mode: the last successful cycle; serve mode: the newest published model (epoch ms). */
  last_success_ts: number | null;
  age_sec: number | null;
  max_age_sec: number;
}

export function registerHealthRoutes(app: FastifyInstance, ctx: ServingContext): void {
  const { deps } = ctx;

  app.get('/healthz', { schema: ROUTE_SCHEMAS.healthz }, (_req, reply) => {
    void reply.header('cache-control', 'no-store');
    return { status: 'ok', mode: deps.mode, uptime_sec: Math.round((Date.now() - ctx.startedMs) / 1000) };
  });

  app.get('/readyz', { schema: ROUTE_SCHEMAS.readyz }, async (_req, reply) => {
    const maxAgeSec = deps.config.readyMaxAgeSec;
    const body: ReadyBody = {
      status: 'ready',
      mode: deps.mode,
      redis: 'ok',
      last_success_ts: null,
      age_sec: null,
      max_age_sec: maxAgeSec,
    };
    const fail = (reason: string): ReadyBody => {
      void reply.code(503);
      return { ...body, status: 'not_ready', error: 'not_ready', reason, message: reason };
    };
    void reply.header('cache-control', 'no-store');
    try {
      await fromRedis(deps.bus.cmd.ping(), READY_PING_TIMEOUT_MS);
    } catch (err) {
      body.redis = 'unreachable';
      return fail(`Redis unreachable: ${(err as Error).message}`);
    }
    let last = 0;
    if (deps.mode === 'run') {
      last = deps.lastSuccessTs?.() ?? 0;
      if (!(last > 0)) return fail('no successful cycle yet');
    } else {
      const notes = await Promise.all(
        ctx.symbols.flatMap((s) =>
          MODEL_NAMES.map((m) => fromRedis(ctx.hub.current(m, s)).catch(() => null)),
        ),
      );
      for (const n of notes) {
        const t = n?.ts ? Date.parse(n.ts) : NaN;
        if (Number.isFinite(t) && t > last) last = t;
      }
      if (!(last > 0)) return fail('no published model yet');
    }
    body.last_success_ts = last;
    body.age_sec = Math.max(0, Math.round((Date.now() - last) / 100) / 10);
    if (Date.now() - last > maxAgeSec * 1000) {
      const what = deps.mode === 'run' ? 'last successful cycle' : 'newest published model';
      return fail(`${what} is ${body.age_sec}s old (max ${maxAgeSec}s)`);
    }
    return body;
  });

  app.get('/metrics', { schema: ROUTE_SCHEMAS.metrics }, async (_req, reply) => {
    deps.metrics.sseClients.set(ctx.hub.clientCount);
    const text = await deps.metrics.render();
    return reply.header('cache-control', 'no-store').type(deps.metrics.registry.contentType).send(text);
  });
}
