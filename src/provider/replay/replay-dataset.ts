/**
 * @module ReplayDataset: a recording served as a frozen market. The clock is `recorded_at`, the generation
 * never changes, expirations come from the recorded contracts.
 */
import type { ChainData, MarketDataset } from '../local-api/dataset.js';
import type { RawContract } from '../massive/types.js';
import { contractExpiration, loadRecording, type Recording } from './recording.js';

interface IndexedChain {
  underlyingAsset: ChainData['underlyingAsset'];
  all: ChainData;
  byExpiration: Map<string, ChainData>;
  expirations: string[];
}

export class ReplayDataset implements MarketDataset {
  readonly recordedAtMs: number;
  private readonly chains = new Map<string, IndexedChain>();

  constructor(readonly recording: Recording) {
    this.recordedAtMs = Date.parse(recording.recorded_at);
    for (const [symbol, recorded] of Object.entries(recording.underlyings)) {
      const groups = new Map<string, RawContract[]>();
      for (const c of recorded.results) {
        const exp = contractExpiration(c);
        if (exp === undefined) continue;
        let group = groups.get(exp);
        if (!group) groups.set(exp, (group = []));
        group.push(c);
      }
      const underlyingAsset = recorded.underlying_asset;
      const expirations = [...groups.keys()].sort();
      this.chains.set(symbol, {
        underlyingAsset,
        all: { underlyingAsset, results: recorded.results },
        byExpiration: new Map(expirations.map((e) => [e, { underlyingAsset, results: groups.get(e) ?? [] }])),
        expirations,
      });
    }
  }

  now(): number {
    return this.recordedAtMs;
  }

  underlyings(): string[] {
    return [...this.chains.keys()];
  }

  expirations(underlying: string): string[] {
    return this.chains.get(underlying)?.expirations ?? [];
  }

  chain(underlying: string, _now: number, expiration?: string): ChainData | null {
    const c = this.chains.get(underlying);
    if (!c) return null;
    if (expiration === undefined) return c.all;
    return c.byExpiration.get(expiration) ?? { underlyingAsset: c.underlyingAsset, results: [] };
  }

  generation(): string {
    return `replay@${this.recording.recorded_at}`;
  }

  /** `underlying_asset.value` (indices), else `price`, else null. */
  indexValue(ticker: string): number | null {
    const asset = this.chains.get(ticker)?.underlyingAsset;
    return asset?.value ?? asset?.price ?? null;
  }
}

/** Loads and validates a recording file and wraps it as a dataset (for `chain-worker sim-server --replay`). */
export async function loadReplayDataset(path: string): Promise<ReplayDataset> {
  return new ReplayDataset(await loadRecording(path));
}
