/**
 * @module Extension points for outputs: an output plugs in here instead of adding conditionals to the
 * cycle or the builder. Observers must not throw into the core: the caller logs and goes on.
 */
import type { CompatRequest, CompatResponse } from './marketswarm/build.js';

/** What a model build published (both models of one epoch). */
export interface ModelsPublished {
  /** `{U}`, e.g. `SPX`. */
  underlying: string;
  /** Vendor form, e.g. `I:SPX`. */
  symbol: string;
  epochId: string;
  /** Publish time, epoch ms. */
  ts: number;
  spot: number | null;
  /** Our published model JSON. */
  models: { gex: Buffer; heatmap: Buffer };
  /** MarketSwarm's outputs, built in the model thread when an observer asked for them. */
  compat?: CompatResponse;
}

export interface ModelObserver {
  readonly name: string;
  /** When given, the builder also builds MarketSwarm's outputs in the model thread with this request. */
  compatRequest?(symbol: string): CompatRequest;
  modelsPublished(e: ModelsPublished): Promise<void>;
}
