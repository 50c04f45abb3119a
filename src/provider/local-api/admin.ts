/**
 * @module Admin endpoints (no auth) for out-of-process control by tests and the benchmark:
 * `GET|POST /__admin/faults`, `GET|POST /__admin/stats`, `GET|POST /__admin/market`, `GET /__admin/health`.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { isAdjustable, type MarketDataset } from './dataset.js';
import type { FaultConfig, FaultPatch } from './faults.js';
import { errorReply, MESSAGES, notFoundReply, type Reply } from './reply.js';
import type { LocalApiStats } from './stats.js';

/** What the admin endpoints act on. */
export interface AdminContext {
  dataset: MarketDataset;
  faults(): FaultConfig;
  patchFaults(patch: FaultPatch): FaultConfig;
  stats(): LocalApiStats;
  resetStats(): void;
  /** Called after the market was reconfigured. */
  marketChanged(): void;
}

const MAX_BODY_BYTES = 1 << 20;
const statsPatchSchema = z.strictObject({ reset: z.boolean().optional() });

class BadRequest extends Error {}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest('Body too large.');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequest('Body is not valid JSON.');
  }
}

function describe(err: unknown): string {
  if (err instanceof z.ZodError) return z.prettifyError(err);
  return err instanceof Error ? err.message : String(err);
}

/** Answers one admin request. */
export async function handleAdmin(
  ctx: AdminContext,
  req: IncomingMessage,
  path: string,
  requestId: string,
): Promise<Reply> {
  const method = req.method ?? 'GET';
  const ok = (body: unknown): Reply => ({ status: 200, body });
  try {
    switch (`${method} ${path}`) {
      case 'GET /__admin/health':
        return ok({ status: 'OK', request_id: requestId });
      case 'GET /__admin/faults':
        return ok(ctx.faults());
      case 'POST /__admin/faults':
        return ok(ctx.patchFaults((await readJson(req)) as FaultPatch));
      case 'GET /__admin/stats':
        return ok(ctx.stats());
      case 'POST /__admin/stats': {
        const patch = statsPatchSchema.parse(await readJson(req));
        if (patch.reset) ctx.resetStats();
        return ok(ctx.stats());
      }
      case 'GET /__admin/market':
      case 'POST /__admin/market': {
        const d = ctx.dataset;
        if (method === 'POST') {
          const patch = await readJson(req);
          if (!isAdjustable(d))
            return errorReply(409, requestId, 'This dataset (a recording) has no market knobs.');
          d.adjust(patch);
          ctx.marketChanged();
        }
        const now = d.now();
        return ok({
          adjustable: isAdjustable(d),
          settings: isAdjustable(d) ? d.settings() : null,
          now,
          generation: d.generation(now),
          underlyings: d.underlyings(),
        });
      }
      default:
        return notFoundReply(requestId, MESSAGES.notFound);
    }
  } catch (err) {
    if (err instanceof BadRequest || err instanceof z.ZodError)
      return errorReply(400, requestId, describe(err));
    throw err;
  }
}
