/**
 * @module Writes MarketSwarm's compatible keys from what the model thread built: the two GEX sides (EX one
 * day), the heatmap document (EX three days), each diff PUBLISHed and XADDed to the capped replay stream,
 * and the spot. Only SET / PUBLISH / XADD of bytes: Redis never decodes or rebuilds a document.
 */
import type { Logger } from '../../lib/logger.js';
import { unixSeconds } from '../../lib/time.js';
import type { RedisBus } from '../../redis/bus.js';
import type { KeySchema } from '../../redis/keys.js';
import type { ModelObserver, ModelsPublished } from '../observers.js';
import type { CompatRequest } from './build.js';

export const GEX_TTL_SEC = 86_400;
export const HEATMAP_TTL_SEC = 259_200;

function buf(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export class MarketSwarmOutput implements ModelObserver {
  readonly name = 'marketswarm';
  /** The last heatmap version published per symbol (the next build starts above it). */
  private readonly versions = new Map<string, number>();

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly logger: Logger,
    /** Entries the replay stream keeps (`CHAIN_COMPAT_REPLAY_MAXLEN`). */
    private readonly replayMaxLen: number,
  ) {}

  /** The first version the next heatmap of `symbol` may use: strictly above the last, and at least now. */
  nextVersion(symbol: string, nowMs = Date.now()): number {
    return Math.max(Math.round(nowMs), (this.versions.get(symbol) ?? 0) + 1);
  }

  compatRequest(symbol: string): CompatRequest {
    return { symbol, versionBase: this.nextVersion(symbol) };
  }

  async modelsPublished(e: ModelsPublished): Promise<void> {
    const c = e.compat;
    if (!c) return;
    const r = this.bus.cmd;
    const k = this.keys;
    const s = e.symbol;
    await r.set(k.compatGex(s, 'calls'), buf(c.gexCalls), 'EX', GEX_TTL_SEC);
    await r.set(k.compatGex(s, 'puts'), buf(c.gexPuts), 'EX', GEX_TTL_SEC);
    if (e.spot !== null && Number.isFinite(e.spot)) {
      await r.set(
        k.compatSpot(s),
        JSON.stringify({ symbol: s, value: e.spot, ts: unixSeconds(e.ts), source: 'chain-worker' }),
      );
    }
    if (c.heatmap && c.version !== null) {
      // The document first, so a reader that fetches it on a diff's arrival gets at least that version.
      await r.set(k.compatHeatmapLatest(s), buf(c.heatmap), 'EX', HEATMAP_TTL_SEC);
      for (const d of c.diffs) {
        await r.publish(k.compatHeatmapDiff(s), buf(d));
        await this.bus.cmd.xadd(
          k.compatHeatmapReplay(s),
          'MAXLEN',
          '~',
          String(this.replayMaxLen),
          '*',
          'payload',
          buf(d),
        );
      }
      this.versions.set(s, c.version);
    }
    this.logger.debug(
      { symbol: s, tiles: c.tiles, changed: c.changed, removed: c.removed, diffs: c.diffs.length },
      'marketswarm outputs written',
    );
  }
}
