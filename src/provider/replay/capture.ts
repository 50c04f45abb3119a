/** @module Capturing a dataset's state (e.g. the simulator at one tick) as a recording. */
import type { MarketDataset } from '../local-api/dataset.js';
import type { Recording } from './recording.js';

/**
 * The full chains of `underlyings` at `now` as a recording (unknown underlyings are left out), e.g. to
 * freeze a simulated burst into a file that `ReplayDataset` serves identically.
 */
export function captureRecording(
  dataset: MarketDataset,
  underlyings: readonly string[] = dataset.underlyings(),
  now: number = dataset.now(),
): Recording {
  const recording: Recording = { recorded_at: new Date(now).toISOString(), underlyings: {} };
  for (const u of underlyings) {
    const chain = dataset.chain(u, now);
    if (chain) recording.underlyings[u] = { underlying_asset: chain.underlyingAsset, results: chain.results };
  }
  return recording;
}
