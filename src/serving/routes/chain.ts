/**
 * @module `GET /api/chain/{symbol}?expiration=YYYY-MM-DD`: one expiration of the active epoch's chain as the
 * dashboard's chain ladder shows it (bid, ask, mid, IV, delta, gamma, OI, volume per contract), read from the
 * epoch's contract substrates. Only that expiration's contracts are read (their ids carry the date).
 */
import type { FastifyInstance } from 'fastify';
import { parseOptionTicker } from '../../provider/massive/ticker.js';
import { ROUTE_SCHEMAS } from '../openapi.js';
import { queryOne } from './api.js';
import { resolveSymbol, type ServingContext } from './context.js';
import { decodeContractIndex } from '../../wiring/contract-index.js';
import { HttpError, fromRedis } from './errors.js';

/** One contract as the chain ladder shows it. */
export interface ChainRow {
  id: string;
  strike: number;
  type: 'call' | 'put';
  bid: number | null;
  ask: number | null;
  mid: number | null;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  oi: number | null;
  volume: number | null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `YYYY-MM-DD` naming a day of the calendar (not 2026-13-45 or 2026-02-30). */
function isCalendarDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === s;
}

function num(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/** The ladder's row of a substrate (null when it is unreadable or not of the date). */
export function chainRow(raw: string | Buffer | null, expiration: string): ChainRow | null {
  if (raw === null) return null;
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(raw.toString()) as Record<string, unknown>;
  } catch {
    return null;
  }
  const strike = num(s.strike);
  const type = s.type === 'call' || s.type === 'put' ? s.type : null;
  if (typeof s.id !== 'string' || strike === null || type === null || s.expiration !== expiration)
    return null;
  return {
    id: s.id,
    strike,
    type,
    bid: num(s.bid),
    ask: num(s.ask),
    mid: num(s.mid),
    iv: num(s.iv),
    delta: num(s.delta),
    gamma: num(s.gamma),
    oi: num(s.oi),
    volume: num(s.volume),
  };
}

export function registerChainRoutes(app: FastifyInstance, ctx: ServingContext): void {
  const { bus, keys } = ctx.deps;
  app.get<{ Params: { symbol: string } }>(
    '/api/chain/:symbol',
    { schema: ROUTE_SCHEMAS.chain },
    async (req, reply) => {
      const symbol = resolveSymbol(ctx, req.params.symbol);
      const expiration = queryOne(req, 'expiration');
      if (expiration === undefined || !isCalendarDate(expiration))
        throw new HttpError(400, 'bad_query', 'expiration: give one date, YYYY-MM-DD');
      const epochId = await fromRedis(bus.read((r) => r.hget(keys.epochActive, symbol)));
      if (!epochId) throw new HttpError(404, 'chain_not_found', `no active epoch for ${symbol}`);
      const [idsRaw, asOf] = await fromRedis(
        Promise.all([
          bus.read((r) => r.getBuffer(keys.epochContracts(epochId))),
          bus.read((r) => r.hget(keys.epochMeta(epochId), 'as_of')),
        ]),
      );
      if (idsRaw === null) throw new HttpError(404, 'chain_not_found', `epoch ${epochId} has expired`);
      // A corrupt index (another writer, a torn value) is this epoch's chain being unavailable, not a bug.
      const all = await decodeContractIndex(idsRaw).catch((err: unknown) => {
        throw new HttpError(
          404,
          'chain_not_found',
          `the contract index of epoch ${epochId} is unreadable: ${(err as Error).message}`,
        );
      });
      const ids = all.filter((id) => parseOptionTicker(id)?.expiration === expiration);
      const raws =
        ids.length > 0
          ? await fromRedis(bus.getManyBuffers(ids.map((id) => keys.epochContract(epochId, id))))
          : [];
      const contracts = raws
        .map((raw) => chainRow(raw, expiration))
        .filter((r): r is ChainRow => r !== null)
        .sort((a, b) => a.strike - b.strike || (a.type < b.type ? -1 : 1));
      const asOfSec = num(asOf);
      return reply.send({
        symbol,
        epoch_id: epochId,
        as_of: asOfSec === null ? null : new Date(asOfSec * 1000).toISOString(),
        expiration,
        contracts,
      });
    },
  );
}
