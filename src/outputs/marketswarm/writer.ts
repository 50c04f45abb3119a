/**
 * @module Builds and writes MarketSwarm's compatible keys. The builder hands over each epoch's substrate
 * columns (the fields these outputs read, from the model thread's parse) as soon as our models are built;
 * the build runs on the compat thread of its own (our models never wait for it), then the two GEX sides (EX one day), the heatmap document (EX three days), each diff PUBLISHed and
 * XADDed to the capped replay stream, and the spot are written. One build at a time; a symbol's request
 * that arrives while an older one of it still waits replaces it (only the newest epoch is worth building).
 * Only SET / PUBLISH / XADD of bytes: Redis never decodes or rebuilds a document.
 */
import type { Logger } from '../../lib/logger.js';
import { unixSeconds } from '../../lib/time.js';
import type { LargeMessage, RedisBus } from '../../redis/bus.js';
import type { KeySchema } from '../../redis/keys.js';
import { EpochStore } from '../../wiring/epoch-store.js';
import type { ModelObserver, SubstratesRead } from '../observers.js';
import { compatBuffers, type CompatRequest, type CompatResponse } from './build.js';
import { CompatThread } from './compat-thread.js';

export const GEX_TTL_SEC = 86_400;
export const HEATMAP_TTL_SEC = 259_200;

function buf(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export class MarketSwarmOutput implements ModelObserver {
  readonly name = 'marketswarm';
  /** The last heatmap version published per symbol (the next build starts above it). */
  private readonly versions = new Map<string, number>();
  private readonly thread = new CompatThread();
  /** Per symbol, the newest request not started yet. */
  private readonly waiting = new Map<string, SubstratesRead>();
  private running: Promise<void> | undefined;
  private closed = false;
  /** built: written; superseded: built, then not written (a newer epoch was promoted meanwhile). */
  readonly stats = { built: 0, replaced: 0, failed: 0, superseded: 0 };
  private readonly epochs: EpochStore;

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly logger: Logger,
    /** Entries the replay stream keeps (`CHAIN_COMPAT_REPLAY_MAXLEN`). */
    private readonly replayMaxLen: number,
  ) {
    this.epochs = new EpochStore(bus, keys);
  }

  /** The first version the next heatmap of `symbol` may use: strictly above the last, and at least now. */
  nextVersion(symbol: string, nowMs = Date.now()): number {
    return Math.max(Math.round(nowMs), (this.versions.get(symbol) ?? 0) + 1);
  }

  compatRequest(symbol: string): CompatRequest {
    return { symbol, versionBase: this.nextVersion(symbol) };
  }

  substratesRead(e: SubstratesRead): void {
    if (this.closed) return;
    if (this.waiting.has(e.symbol)) this.stats.replaced++;
    this.waiting.set(e.symbol, e);
    this.running ??= this.pump().finally(() => {
      this.running = undefined;
    });
  }

  /** Builds and writes the waiting requests, oldest symbol first, one at a time. */
  private async pump(): Promise<void> {
    for (;;) {
      const next = this.waiting.entries().next();
      if (next.done || this.closed) return;
      const [symbol, e] = next.value;
      this.waiting.delete(symbol);
      try {
        // The version is taken when the build starts: every earlier build of the symbol is written.
        const c = await this.thread.build({
          ...this.compatRequest(symbol),
          columns: e.columns,
          asOfMs: e.asOf,
          spot: e.spot,
          widths: e.widths,
          windowPct: e.windowPct,
          tsSec: Math.round(e.ts) / 1000,
        });
        // A promotion that landed meanwhile wins: its outputs are the newer ones (another builder process
        // may have written them already).
        const current = (await this.epochs.activeId(e.underlying)) === e.epochId;
        if (current) await this.write(symbol, e.spot, e.ts, c);
        // Every reply is in (no socket still reads them): the thread writes its next builds into them.
        this.thread.recycle(compatBuffers(c));
        if (current) this.stats.built++;
        else this.stats.superseded++;
      } catch (err) {
        this.stats.failed++;
        this.logger.warn({ symbol, err: (err as Error).message }, 'marketswarm outputs not written');
      }
    }
  }

  modelsPublished(): Promise<void> {
    return Promise.resolve();
  }

  /** Resolves when every request handed over so far is built and written (or failed). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Writes one build's outputs for `symbol` (vendor form); `ts` is the build's time, epoch ms. */
  async write(symbol: string, spot: number | null, ts: number, c: CompatResponse): Promise<void> {
    const r = this.bus.cmd;
    const k = this.keys;
    const s = symbol;
    // The GEX sides, the spot and the heatmap document sent at once and answered together (one round trip,
    // not four, at the end of the compat build: the drain's tail); the diffs wait for the document.
    const sets: Promise<unknown>[] = [
      r.set(k.compatGex(s, 'calls'), buf(c.gexCalls), 'EX', GEX_TTL_SEC),
      r.set(k.compatGex(s, 'puts'), buf(c.gexPuts), 'EX', GEX_TTL_SEC),
    ];
    if (spot !== null && Number.isFinite(spot)) {
      sets.push(
        r.set(
          k.compatSpot(s),
          JSON.stringify({ symbol: s, value: spot, ts: unixSeconds(ts), source: 'chain-worker' }),
        ),
      );
    }
    const version = c.heatmap ? c.version : null;
    // The document before any diff, so a reader that fetches it on a diff's arrival gets at least that
    // version. ~2.5 MB: without a copy, and off the connection the cycle's commands use (see setLarge).
    if (c.heatmap && version !== null)
      sets.push(this.bus.setLarge(k.compatHeatmapLatest(s), buf(c.heatmap), HEATMAP_TTL_SEC));
    await Promise.all(sets);
    if (version !== null) {
      // Every diff's PUBLISH and XADD sent at once (one connection: they run in this order, the versions
      // ascending), answered together: one round trip per build instead of two per diff. The payloads go
      // to the socket as they are (publishAndAppend), not copied twice by the client.
      await this.bus.publishAndAppend(
        c.diffs.flatMap((d): LargeMessage[] => [
          { kind: 'publish', channel: k.compatHeatmapDiff(s), payload: buf(d) },
          {
            kind: 'xadd',
            stream: k.compatHeatmapReplay(s),
            maxLen: this.replayMaxLen,
            field: 'payload',
            payload: buf(d),
          },
        ]),
      );
      this.versions.set(s, version);
    }
    this.logger.debug(
      { symbol: s, tiles: c.tiles, changed: c.changed, removed: c.removed, diffs: c.diffs.length },
      'marketswarm outputs written',
    );
  }

  /** Shutdown began: the requests not started are dropped, no new ones taken (the one being built is written). */
  quiesce(): void {
    this.closed = true;
    this.waiting.clear();
  }

  /** Drops the requests not started, waits for the one being built, stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.clear();
    await this.idle();
    await this.thread.close();
  }
}
