/**
 * @module The history output: a model observer that keeps every published model version for
 * `CHAIN_MODEL_HISTORY_SEC`. `modelsPublished` only queues (the builder, and so the cycle that awaits it,
 * never waits for history); the history thread turns each version into a keyframe or a patch against the
 * one before, and this module writes it with plain commands:
 *
 * - `SET massive:{model}:history:{U}:{version} <record> EX <retention + keyframe span + 60 s>`;
 * - `ZADD massive:{model}:history:{U} <publish time, Unix s> <index row JSON>`;
 * - `ZREMRANGEBYSCORE` of the same index below the records' lifetime, and `EXPIRE` of the index with the
 *   records' TTL (it goes with its newest record).
 *
 * Live builds (`trigger: "stream"`, up to once a second per symbol) are kept at most once per
 * `CHAIN_MODEL_HISTORY_STREAM_SEC`; snapshot builds always are.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../lib/logger.js';
import { copyInSlices } from '../../lib/slices.js';
import type { WorkerRpc } from '../../lib/worker-rpc.js';
import { unixSeconds } from '../../lib/time.js';
import type { RedisBus } from '../../redis/bus.js';
import type { KeySchema, ModelName } from '../../redis/keys.js';
import { MODEL_NAMES } from '../../redis/keys.js';
import { modelWork } from '../../lib/quiet-gate.js';
import type { ModelObserver, ModelsPublished } from '../observers.js';
import { KEYFRAME_MAX_AGE_SEC, type EncodeResult } from './encoder.js';
import { EncoderThread } from './encoder-thread.js';
import type { HistoryValues } from './rows.js';

/**
 * Bytes of versions waiting to be encoded, over all models and symbols; a version beyond this is dropped
 * (and counted), unless nothing waits at all. Four 15 MB burst heatmaps.
 */
export const MAX_PENDING_BYTES = 64 * 1024 * 1024;

/**
 * The longest a version waits for the process's cycles and builds in flight before it is encoded anyway
 * (lib/quiet-gate.ts): a worker whose cycles never pause still keeps its history.
 */
export const ENCODE_WAIT_MS = 3_000;

/**
 * How long a version may wait for a quiet moment: {@link ENCODE_WAIT_MS}, or not at all once the versions
 * waiting hold half of {@link MAX_PENDING_BYTES} (a worker whose cycles never pause would otherwise reach the
 * cap and drop versions). Pure.
 */
export function encodeWaitMs(pendingBytes: number): number {
  return pendingBytes > MAX_PENDING_BYTES / 2 ? 0 : ENCODE_WAIT_MS;
}

/** How long {@link HistoryRecorder.close} waits for the version being encoded (queued ones are dropped). */
export const CLOSE_WAIT_MS = 2_000;

export interface HistorySettings {
  /** CHAIN_MODEL_HISTORY_SEC (0: off). */
  modelHistorySec: number;
  /** CHAIN_MODEL_HISTORY_STREAM_SEC. */
  modelHistoryStreamSec: number;
}

/** How long a record lives: a patch needs its keyframe, written up to the keyframe span before it. */
export function recordTtlSec(retentionSec: number): number {
  return retentionSec + KEYFRAME_MAX_AGE_SEC + 60;
}

/** What the index row of a version holds (the ZSET member). */
export interface IndexRow extends Partial<HistoryValues> {
  /** Version id: the record's key suffix. */
  v: string;
  epoch_id: string;
  trigger: 'snapshot' | 'stream';
}

export interface HistoryStats {
  recorded: number;
  keyframes: number;
  patches: number;
  skippedStream: number;
  dropped: number;
  failed: number;
  publishedBytes: Record<ModelName, number>;
  recordBytes: Record<ModelName, number>;
  versions: Record<ModelName, number>;
}

export class HistoryRecorder implements ModelObserver {
  readonly name = 'history';
  private readonly thread: EncoderThread;
  private readonly tails = new Map<string, Promise<void>>();
  private pendingBytes = 0;
  /** Publish time (ms) of the last version kept per stream. */
  private readonly lastKept = new Map<string, number>();
  private closed = false;
  /** Aborted when shutdown begins: versions waiting for a quiet moment are dropped at once. */
  private readonly closing = new AbortController();
  readonly stats: HistoryStats = {
    recorded: 0,
    keyframes: 0,
    patches: 0,
    skippedStream: 0,
    dropped: 0,
    failed: 0,
    publishedBytes: { gex: 0, heatmap: 0 },
    recordBytes: { gex: 0, heatmap: 0 },
    versions: { gex: 0, heatmap: 0 },
  };

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly settings: HistorySettings,
    private readonly logger: Logger,
    /** The thread to encode on (the model thread's); without it, a history thread of its own. */
    thread?: WorkerRpc | null,
  ) {
    this.thread = new EncoderThread(thread ?? undefined);
  }

  modelsPublished(e: ModelsPublished): Promise<void> {
    if (this.closed || this.settings.modelHistorySec <= 0) return Promise.resolve();
    for (const model of MODEL_NAMES) this.enqueue(model, e);
    return Promise.resolve();
  }

  private enqueue(model: ModelName, e: ModelsPublished): void {
    const stream = `${model}:${e.underlying}`;
    const last = this.lastKept.get(stream);
    if (
      e.trigger === 'stream' &&
      last !== undefined &&
      e.ts - last < this.settings.modelHistoryStreamSec * 1000
    ) {
      this.stats.skippedStream++;
      return;
    }
    const size = e.models[model].length;
    if (this.pendingBytes > 0 && this.pendingBytes + size > MAX_PENDING_BYTES) {
      this.stats.dropped++;
      this.logger.warn({ model, symbol: e.underlying }, 'history behind: a version was not kept');
      return;
    }
    this.lastKept.set(stream, e.ts);
    this.pendingBytes += size;
    // A copy: the published buffer is shared with the other observers, and the copy moves to the thread.
    // Made a slice per turn of the event loop (a burst heatmap is ~15 MB), while earlier versions encode.
    const published = copyInSlices(e.models[model]);
    published.catch(() => undefined); // a version dropped at shutdown never awaits its copy
    const id = `${Math.round(e.ts)}-${randomBytes(3).toString('hex')}`;
    const tail = (this.tails.get(stream) ?? Promise.resolve())
      .then(() => {
        // Shutting down: versions not started are dropped (the current model stays readable as is).
        if (this.closed) {
          this.stats.dropped++;
          return;
        }
        return published.then((bytes) => this.record(model, stream, id, e, bytes));
      })
      .catch((err: unknown) => {
        this.stats.failed++;
        this.thread.reset(stream);
        this.logger.warn(
          { model, symbol: e.underlying, err: (err as Error).message },
          'history: version not kept',
        );
      })
      .finally(() => {
        this.pendingBytes -= size;
      });
    this.tails.set(stream, tail);
  }

  /**
   * Encodes and writes one version once the process's cycles and builds in flight are done (see
   * {@link encodeWaitMs}): an encode beside a build shares the model thread and adds its buffers to the build's.
   */
  private async record(
    model: ModelName,
    stream: string,
    id: string,
    e: ModelsPublished,
    published: Uint8Array,
  ): Promise<void> {
    await modelWork.whenQuiet(encodeWaitMs(this.pendingBytes), this.closing.signal);
    if (this.closed) {
      this.stats.dropped++;
      return;
    }
    const res: EncodeResult = await this.thread.encode({
      stream,
      id,
      tsMs: e.ts,
      published,
      gex: model === 'gex',
    });
    const row: IndexRow = { v: id, epoch_id: e.epochId, trigger: e.trigger, ...(res.values ?? {}) };
    const ttl = recordTtlSec(this.settings.modelHistorySec);
    const index = this.keys.modelHistory(model, e.underlying);
    const r = this.bus.cmd;
    const record = Buffer.from(res.record.buffer, res.record.byteOffset, res.record.byteLength);
    // The record first: an index row never names a version that was not stored.
    await r.set(this.keys.modelHistoryVersion(model, e.underlying, id), record, 'EX', ttl);
    await r.zadd(index, unixSeconds(e.ts), JSON.stringify(row));
    // Rows whose record has expired (records live `ttl` from their write).
    await r.zremrangebyscore(index, '-inf', `(${unixSeconds(Date.now() - ttl * 1000)}`);
    // The index lives as long as its newest record: with no more writes (a symbol dropped, the history
    // turned off) nothing would trim it.
    await r.expire(index, ttl);
    this.stats.recorded++;
    if (res.kind === 'keyframe') this.stats.keyframes++;
    else this.stats.patches++;
    this.stats.versions[model]++;
    this.stats.publishedBytes[model] += res.publishedBytes;
    this.stats.recordBytes[model] += record.length;
    this.logger.debug(
      { model, symbol: e.underlying, kind: res.kind, why: res.keyframeReason, bytes: record.length },
      'history version kept',
    );
  }

  /** Resolves when every queued version is written (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const tails = [...this.tails.values()];
      await Promise.all(tails);
      if ([...this.tails.values()].every((t, i) => t === tails[i])) return;
    }
  }

  /** Shutdown began: no new versions; the queued ones are dropped (the one being encoded is written). */
  quiesce(): void {
    this.closed = true;
    this.closing.abort();
  }

  /**
   * Stops taking versions, drops the queued ones, waits up to {@link CLOSE_WAIT_MS} for the one being
   * encoded and written, then stops the thread. Bounded, so a shutdown never waits on a backlog.
   */
  async close(): Promise<void> {
    this.quiesce();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((r) => {
        timer = setTimeout(r, CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    await this.thread.close();
  }
}
