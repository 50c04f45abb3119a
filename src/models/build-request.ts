/**
 * @module What a model build is given, from the epoch meta as Redis holds it (every value a string, times in
 * Unix seconds) and the substrates. Pure: the builder's build and its early build (early-build.ts) both
 * make their request here, so the same meta gives the same models.
 */
import type { Config } from '../config/load.js';
import { msOfSeconds } from '../lib/time.js';
import type { BuildRequest } from './build-models.js';
import type { LiveInfo, ModelProvider } from './types.js';

/** The model header fields the epoch meta carries: partial, missing expirations, provider. */
export function epochHeaderFields(meta: Record<string, string>): {
  partial: boolean;
  missingExpirations: string[];
  provider: ModelProvider | null;
} {
  let missing: unknown = [];
  try {
    missing = JSON.parse(meta.missing_expirations ?? '[]');
  } catch {
    // A meta written by hand or by an older worker: no missing expirations known.
  }
  const provider = meta.provider;
  return {
    partial: meta.partial === '1',
    missingExpirations: Array.isArray(missing) ? missing.filter((e) => typeof e === 'string') : [],
    provider: provider === 'massive' || provider === 'sim' || provider === 'replay' ? provider : null,
  };
}
/** The `live` header of a model built from the REST snapshot as written. */
export const SNAPSHOT_LIVE_INFO: LiveInfo = {
  source: 'snapshot',
  spot_source: 'snapshot',
  last_tick_ts: null,
  streamed_contracts: 0,
  quote_age_ms: null,
};

/**
 * The build request of an epoch from its meta and substrates; `ts` is the build time (epoch ms); `compat`:
 * also return the substrate columns MarketSwarm's outputs read.
 */
export function buildRequestFor(
  config: Pick<Config, 'staleAfterSec' | 'widths' | 'heatmapWindowPct'>,
  e: {
    epochId: string;
    symbol: string;
    meta: Record<string, string>;
    ts: number;
    substrates: Uint8Array;
    compat?: boolean;
  },
): BuildRequest {
  const { meta, ts } = e;
  // Redis holds Unix seconds; the model thread works in epoch ms.
  const asOfMs = msOfSeconds(meta.as_of ?? meta.last_refresh_ts);
  const asOf = Number.isFinite(asOfMs) ? asOfMs : Date.now();
  return {
    symbol: e.symbol,
    epochId: e.epochId,
    asOf,
    spot: meta.spot ? Number(meta.spot) : null,
    ts,
    stale: meta.status === 'dormant' || ts - asOf > config.staleAfterSec * 1000,
    ...epochHeaderFields(meta),
    widths: config.widths[e.symbol] ?? [5, 10, 15, 20],
    windowPct: config.heatmapWindowPct,
    substrates: e.substrates,
    live: SNAPSHOT_LIVE_INFO,
    ...(e.compat === true ? { compat: true } : {}),
  };
}
