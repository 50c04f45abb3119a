/**
 * @module Parses an epoch's substrates and builds both published models as UTF-8 JSON bytes. Pure; runs in
 * the model thread (model-thread.ts) so a 20,000-contract build never blocks the event loop. Input and
 * output are byte arrays so they cross the thread boundary by transfer, not by copying strings.
 */
import type { ContractSubstrate } from '../normalizers/substrate.js';
import { buildGexModel } from './gex/index.js';
import { heatmapCapacity, heatmapModelBytes } from './heatmap/json.js';
import { substrateColumns, type SubstrateColumns } from './substrate-columns.js';
import type { LiveInfo, ModelProvider } from './types.js';

export interface BuildRequest {
  symbol: string;
  epochId: string;
  asOf: number;
  spot: number | null;
  ts: number;
  stale: boolean;
  /** Header fields from the epoch meta (see ModelInput). */
  partial?: boolean;
  missingExpirations?: string[];
  provider?: ModelProvider | null;
  widths: number[];
  windowPct: number;
  /** The substrates as one JSON array, UTF-8 (see {@link joinJsonArray}). */
  substrates: Uint8Array;
  /** The `live` header of both models (absent: no `live` field). */
  live?: LiveInfo;
  /** Bytes of the symbol's last heatmap: the buffer it is written into is sized from it (heatmapCapacity). */
  lastHeatmapBytes?: number;
  /**
   * Hand the substrates' {@link SubstrateColumns} (MarketSwarm's outputs build from them) to `buildModels`'s
   * `onColumns` as soon as they are parsed, before our models are built.
   */
  compat?: boolean;
}

/** The GEX levels the level events read (all expirations, open interest). */
export interface GexLevelSummary {
  zeroGamma: number | null;
  /** Net GEX (calls + puts, puts ≤ 0). */
  net: number;
  /** calls + |puts|. */
  gross: number;
  callWall: number | null;
  putWall: number | null;
}

export interface BuildResponse {
  /** GEX model JSON, UTF-8 (its own ArrayBuffer, transferable). */
  gex: Uint8Array;
  levels: GexLevelSummary;
  heatmap: Uint8Array;
  contracts: number;
  ms: { parse: number; gex: number; heatmap: number };
}

/**
 * Parses the substrates and builds both models; with `req.compat`, `onColumns` gets the columns MarketSwarm's
 * outputs read right after the parse (they build beside ours, with no second parse).
 */
export function buildModels(
  req: BuildRequest,
  onColumns?: (columns: SubstrateColumns) => void,
): BuildResponse {
  const t0 = performance.now();
  const bytes = req.substrates;
  const contracts = JSON.parse(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  ) as ContractSubstrate[];
  const parseMs = performance.now() - t0;
  if (req.compat === true) onColumns?.(substrateColumns(contracts));
  return buildModelsFrom(contracts, req, parseMs);
}

/** Builds both models from substrates already parsed (the live thread keeps its own); `parseMs` is reported. */
export function buildModelsFrom(
  contracts: ContractSubstrate[],
  req: Omit<BuildRequest, 'substrates'>,
  parseMs = 0,
): BuildResponse {
  const t1 = performance.now();
  const t0 = t1 - parseMs;
  const input = {
    symbol: req.symbol,
    epochId: req.epochId,
    asOf: req.asOf,
    spot: req.spot,
    contracts,
    ts: req.ts,
    stale: req.stale,
    partial: req.partial === true,
    missingExpirations: req.missingExpirations ?? [],
    provider: req.provider ?? null,
  };
  const encoder = new TextEncoder();
  const withLive = <T extends object>(m: T): T => (req.live ? { ...m, live: req.live } : m);
  const gexModel = buildGexModel(input);
  const gex = encoder.encode(JSON.stringify(withLive(gexModel)));
  const t2 = performance.now();
  // The heatmap's density gives the probability between each date's GEX levels: both are known here.
  const levels = new Map(
    Object.entries(gexModel.by_expiration).map(([date, e]) => [
      date,
      { zero_gamma: e.levels.zero_gamma, call_wall: e.levels.call_wall, put_wall: e.levels.put_wall },
    ]),
  );
  // Written as bytes, the same as JSON.stringify of the model object (heatmap/json.ts).
  const heatmap = heatmapModelBytes(
    { ...input, widths: req.widths, windowPct: req.windowPct, levels },
    req.live ? { live: req.live } : {},
    req.lastHeatmapBytes ? heatmapCapacity(req.lastHeatmapBytes) : undefined,
  );
  const t3 = performance.now();
  return {
    gex,
    heatmap,
    levels: {
      zeroGamma: gexModel.levels.zero_gamma,
      net: gexModel.totals.net,
      gross: gexModel.totals.calls + Math.abs(gexModel.totals.puts),
      callWall: gexModel.levels.call_wall,
      putWall: gexModel.levels.put_wall,
    },
    contracts: contracts.length,
    ms: { parse: t1 - t0, gex: t2 - t1, heatmap: t3 - t2 },
  };
}

/**
 * Joins JSON values (null entries skipped) into one `[a,b,…]` array in a fresh, unpooled buffer, so it can
 * be transferred to the model thread.
 */
export function joinJsonArray(parts: readonly (Buffer | null)[]): Uint8Array {
  let size = 2;
  let n = 0;
  for (const p of parts) {
    if (p === null) continue;
    size += p.length + (n > 0 ? 1 : 0);
    n++;
  }
  const out = Buffer.allocUnsafeSlow(size);
  let o = 0;
  out[o++] = 0x5b;
  let first = true;
  for (const p of parts) {
    if (p === null) continue;
    if (!first) out[o++] = 0x2c;
    first = false;
    o += p.copy(out, o);
  }
  out[o] = 0x5d;
  return out;
}
