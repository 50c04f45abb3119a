/**
 * @module The serve process's heatmap diff source: keeps the last heatmap version it read per symbol and,
 * when a new one is published, reads it once and diffs it against the previous ({@link diffHeatmap}). One
 * GET + parse per published version per symbol, shared by every client; nothing is kept for a symbol no
 * client is watching.
 */
import type { HeatmapModel } from '../../models/types.js';
import type { RedisBus } from '../../redis/bus.js';
import type { KeySchema } from '../../redis/keys.js';
import { diffHeatmap, type HeatmapDiff } from './heatmap-diff.js';

/** A diff larger than this (JSON bytes) is not sent: clients fetch the document instead. */
export const MAX_HEATMAP_DIFF_BYTES = 512 * 1024;

export interface HeatmapDiffFrame {
  /** The event's data: the diff as JSON. */
  data: string;
  diff: HeatmapDiff;
}

export class HeatmapDiffs {
  private readonly last = new Map<string, HeatmapModel>();

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly maxBytes = MAX_HEATMAP_DIFF_BYTES,
  ) {}

  /**
   * Reads the symbol's current heatmap and returns its diff from the version read last time; null when
   * there is no previous version, nothing changed, the model is unreadable, or the diff is over the cap.
   * The version read becomes the next base either way.
   */
  async next(symbol: string): Promise<HeatmapDiffFrame | null> {
    const raw = await this.bus.read((r) => r.get(this.keys.model('heatmap', symbol)));
    if (raw === null) {
      this.last.delete(symbol);
      return null;
    }
    let doc: HeatmapModel;
    try {
      doc = JSON.parse(raw) as HeatmapModel;
    } catch {
      this.last.delete(symbol);
      return null;
    }
    if (typeof doc !== 'object' || doc === null || typeof doc.expirations !== 'object') return null;
    const prev = this.last.get(symbol);
    this.last.set(symbol, doc);
    if (!prev || (prev.ts === doc.ts && prev.epoch_id === doc.epoch_id)) return null;
    const diff = diffHeatmap(prev, doc);
    const data = JSON.stringify(diff);
    if (Buffer.byteLength(data) > this.maxBytes) return null;
    return { data, diff };
  }

  /** Drops what is kept for a symbol (no client watches it), or for all. */
  forget(symbol?: string): void {
    if (symbol === undefined) this.last.clear();
    else this.last.delete(symbol);
  }
}
