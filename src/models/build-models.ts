/**
 * @module Parses an epoch's substrates and builds both published models as JSON strings. Pure; runs in
 * the model thread (model-thread.ts) so a 20,000-contract build never blocks the event loop.
 */
import type { ContractSubstrate } from '../normalizers/substrate.js';
import { buildGexModel } from './gex/index.js';
import { buildHeatmapModel } from './heatmap/index.js';

export interface BuildRequest {
  symbol: string;
  epochId: string;
  asOf: number;
  spot: number | null;
  ts: number;
  stale: boolean;
  widths: number[];
  windowPct: number;
  /** Substrate JSON strings as read from Redis (nulls for expired keys are dropped). */
  substrates: (string | null)[];
}

export interface BuildResponse {
  gex: string;
  heatmap: string;
  contracts: number;
  ms: { parse: number; gex: number; heatmap: number };
}

export function buildModels(req: BuildRequest): BuildResponse {
  const t0 = performance.now();
  const contracts: ContractSubstrate[] = [];
  for (const s of req.substrates) if (s !== null) contracts.push(JSON.parse(s) as ContractSubstrate);
  const t1 = performance.now();
  const input = {
    symbol: req.symbol,
    epochId: req.epochId,
    asOf: req.asOf,
    spot: req.spot,
    contracts,
    ts: req.ts,
    stale: req.stale,
  };
  const gex = JSON.stringify(buildGexModel(input));
  const t2 = performance.now();
  const heatmap = JSON.stringify(
    buildHeatmapModel({ ...input, widths: req.widths, windowPct: req.windowPct }),
  );
  const t3 = performance.now();
  return {
    gex,
    heatmap,
    contracts: contracts.length,
    ms: { parse: t1 - t0, gex: t2 - t1, heatmap: t3 - t2 },
  };
}
