/**
 * @module Epochs in Redis: `epoch:active`, `epoch:meta:{id}`, `epoch:timeline:{U}`, `epoch:dirty`,
 * `epoch:clean`, the contract index `epoch:{id}:contracts` and the build claim `epoch:{id}:build_lease`.
 * It is their one owner: every transition (promote, refresh check, dirty, clean, retire, dormant) is a
 * method here, each atomic where processes can race (a script).
 *
 * Ordering guarantee (single server and cluster alike): a new epoch's substrates, index and meta are
 * written and acknowledged before `epoch:active` is flipped by one script that also checks the worker's
 * fencing token; the snapshot announcement is published after. On a single server the script also
 * checks that the meta and index still exist, so a Redis restart mid-cycle cannot leave `epoch:active`
 * pointing at nothing; on a cluster (where they live in other slots) the worker checks the connection
 * generation instead and abandons the cycle if Redis reconnected while it wrote.
 */
import { BulkWriteError, type BulkCommand, type RedisBus } from '../redis/bus.js';
import { RedisLayerError } from '../redis/errors.js';
import { ScriptError, scriptText } from '../redis/scripts.js';
import type { KeySchema } from '../redis/keys.js';
import { decodeContractIndex } from './contract-index.js';
import type { ActiveEpochView } from '../chain-worker/epoch-decision.js';

export const TIMELINE_CAP = 200;
export const SUPERSEDED_META_TTL_SEC = 86_400;

export type EpochStatus = 'active' | 'dormant' | 'superseded';

export interface EpochMeta {
  symbol: string;
  created_ts: number;
  geometry_hash: string;
  strike_count: number;
  expiration_count: number;
  contract_count: number;
  /** JSON array of YYYY-MM-DD. */
  expirations: string;
  dormant_count: number;
  forced_dirty: 0 | 1;
  status: EpochStatus;
  last_refresh_ts: number;
  prev_epoch: string;
  /** Added: spot and as-of of the latest refresh (model builders need them). */
  spot: string;
  as_of: number;
  last_health: string;
  /** Added: the lease (`{worker}|{fence}`) of the worker that last wrote the epoch. */
  writer: string;
  /** Added: 1 when the latest write was a partial snapshot (some expiration streams did not complete). */
  partial: 0 | 1;
  /** Added: JSON array of the expirations (YYYY-MM-DD) whose stream did not complete in the latest write. */
  missing_expirations: string;
  /** Added: Unix seconds of the latest complete snapshot written into the epoch (absent: none yet). */
  last_complete_ts: number;
  /** Added: the provider that produced the snapshot (`massive`, `sim`, `replay`). */
  provider: string;
}

export class FencedError extends Error {
  override readonly name = 'FencedError';
}

/** Redis lost the epoch's keys mid-cycle (a restart, a failover without the last writes): counted `redis`. */
export class EpochLostError extends RedisLayerError {
  override readonly name = 'EpochLostError';
}

export class EpochStore {
  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
  ) {}

  /** The active epoch id of `{U}`, and its meta view (null when the meta is gone). */
  async readActive(
    underlying: string,
  ): Promise<{ id: string | null; view: ActiveEpochView | null; meta: Record<string, string> }> {
    const id = await this.activeId(underlying);
    if (!id) return { id: null, view: null, meta: {} };
    const meta = await this.meta(id);
    if (!meta.geometry_hash) return { id, view: null, meta };
    return { id, view: { id, geometryHash: meta.geometry_hash, status: meta.status ?? 'active' }, meta };
  }

  async writeMeta(epochId: string, fields: Partial<EpochMeta>): Promise<void> {
    await this.bus.cmd.hset(this.keys.epochMeta(epochId), fields as Record<string, string | number>);
  }

  /**
   * Flips `epoch:active[U]` to `epochId` if `leaseValue` still holds the symbol's lease. Returns the
   * previous epoch id (or null). Throws {@link FencedError} or {@link EpochLostError}.
   */
  async flip(underlying: string, epochId: string, leaseValue: string): Promise<string | null> {
    const k = this.keys;
    try {
      return await this.bus.scripts.promoteEpoch(
        {
          active: k.epochActive,
          lease: k.workerLease(underlying),
          // The meta and index live in other slots on a cluster: checked there by the connection generation.
          ...(this.bus.isCluster ? {} : { meta: k.epochMeta(epochId), contracts: k.epochContracts(epochId) }),
        },
        underlying,
        epochId,
        leaseValue,
      );
    } catch (err) {
      if (err instanceof ScriptError && err.code === 'FENCED')
        throw new FencedError(`lease for ${underlying} lost; not promoting ${epochId}`, { cause: err });
      if (err instanceof ScriptError && err.code === 'MISSING')
        throw new EpochLostError(`epoch ${epochId} lost its keys before promotion`, { cause: err });
      throw err;
    }
  }

  /**
   * Before a refresh or merge of `epochId` is announced: true while it is still the active epoch, false when
   * another (or none) is. Throws {@link FencedError} when `leaseValue` ("" skips the check) lost the lease:
   * the symbol is another worker's, whatever epoch is active.
   */
  async confirmActive(underlying: string, epochId: string, leaseValue: string): Promise<boolean> {
    try {
      return await this.bus.scripts.confirmActive(
        { active: this.keys.epochActive, lease: this.keys.workerLease(underlying) },
        underlying,
        epochId,
        leaseValue,
      );
    } catch (err) {
      if (err instanceof ScriptError && err.code === 'FENCED')
        throw new FencedError(`lease for ${underlying} lost; not announcing ${epochId}`, { cause: err });
      throw err;
    }
  }

  /** The active epoch id of `{U}` (null when none). */
  async activeId(underlying: string): Promise<string | null> {
    return await this.bus.cmd.hget(this.keys.epochActive, underlying);
  }

  /** Every symbol's active epoch id (`{U}` → id). */
  async activeAll(): Promise<Record<string, string>> {
    return await this.bus.cmd.hgetall(this.keys.epochActive);
  }

  /** An epoch's meta as HGETALL returns it (every field a string; `{}` when gone). */
  async meta(epochId: string): Promise<Record<string, string>> {
    return await this.bus.cmd.hgetall(this.keys.epochMeta(epochId));
  }

  /** The meta's `last_refresh_ts` as stored ("" when absent): the version a model build is taken from. */
  async refreshTs(epochId: string): Promise<string> {
    return (await this.bus.cmd.hget(this.keys.epochMeta(epochId), 'last_refresh_ts')) ?? '';
  }

  /** The epochs flagged for a model build. */
  async dirtyIds(): Promise<string[]> {
    return await this.bus.cmd.smembers(this.keys.epochDirty);
  }

  async isDirty(epochId: string): Promise<boolean> {
    return (await this.bus.cmd.sismember(this.keys.epochDirty, epochId)) === 1;
  }

  /** True when the epoch's contract index is gone (its worker died and the TTL ran out). */
  async indexExpired(epochId: string): Promise<boolean> {
    return (await this.bus.cmd.exists(this.keys.epochContracts(epochId))) === 0;
  }

  /** Takes an epoch off the dirty set without building it (its meta is gone, or it is no longer active). */
  async dropDirty(epochId: string): Promise<void> {
    await this.bus.cmd.srem(this.keys.epochDirty, epochId);
  }

  /** Claims the epoch's model build for `owner` (SET NX PX): false when another builder holds it. */
  async claimBuild(epochId: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.bus.cmd.set(this.keys.buildLease(epochId), owner, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Releases the build claim if `owner` still holds it. */
  async releaseBuild(epochId: string, owner: string): Promise<void> {
    await this.bus.scripts.leaseRelease(this.keys.buildLease(epochId), owner);
  }

  /**
   * Marks the epoch's models built, only if no refresh landed since the build read `refreshTs` (its meta's
   * `last_refresh_ts`, "" when absent). Returns false (the epoch stays dirty) when one did.
   *
   * A refresh writes `last_refresh_ts`, then adds the epoch to `epoch:dirty` ({@link markDirty}). On a
   * single server one script compares and moves the epoch from dirty to clean. On a cluster the three
   * keys live in different slots, so the epoch is taken off `epoch:dirty` first and the timestamp read
   * after: a refresh before that read is seen (the epoch goes back to dirty), one after it re-adds the
   * epoch itself. Either way a refresh is never lost.
   *
   * An epoch superseded while it was built (a promotion landed meanwhile) ends in neither set: false. On a
   * cluster the epoch is added to `epoch:clean` before its status is read, and {@link retire} writes the
   * status before it removes the epoch from the sets, so one of the two always takes it out.
   */
  async markClean(epochId: string, refreshTs: string): Promise<boolean> {
    const k = this.keys;
    if (!this.bus.isCluster)
      return this.bus.scripts.markClean(
        { meta: k.epochMeta(epochId), dirty: k.epochDirty, clean: k.epochClean },
        epochId,
        refreshTs,
      );
    await this.bus.cmd.srem(k.epochDirty, epochId);
    if ((await this.refreshTs(epochId)) !== refreshTs) {
      await this.bus.cmd.sadd(k.epochDirty, epochId);
      return false;
    }
    await this.bus.cmd.sadd(k.epochClean, epochId);
    if ((await this.bus.cmd.hget(k.epochMeta(epochId), 'status')) === 'superseded') {
      await this.bus.cmd.srem(k.epochClean, epochId);
      return false;
    }
    return true;
  }

  /**
   * Retires a superseded epoch: status, meta expiry, out of the dirty and clean sets. Substrates expire by
   * TTL. The status is written first (see {@link markClean}'s cluster path).
   */
  async retire(epochId: string): Promise<void> {
    const r = this.bus.cmd;
    const meta = this.keys.epochMeta(epochId);
    await this.inOrder([
      () => Promise.all([r.hset(meta, 'status', 'superseded'), r.expire(meta, SUPERSEDED_META_TTL_SEC)]),
      () => Promise.all([r.srem(this.keys.epochDirty, epochId), r.srem(this.keys.epochClean, epochId)]),
    ]);
  }

  /**
   * {@link retire}, not waited for: the clean-up of an epoch a failed cycle wrote (a promotion whose write or
   * flip failed, a refresh whose epoch stopped being active), so its meta expires. The cycle's failure is
   * counted now: with Redis gone these commands wait out the client's reconnect retries (5 s seen in CI).
   * They are queued on the connection before anything the cycle sends next; a refusal is dropped, never the
   * cycle's error.
   */
  retireUnawaited(epochId: string): void {
    this.retire(epochId).catch(() => undefined);
  }

  /**
   * Runs `steps` in order. On a single server they are sent together (one connection executes them in
   * the order sent: one round trip instead of one each); on a cluster, where their keys may live on other
   * nodes, each waits for the one before.
   */
  private async inOrder(steps: readonly (() => Promise<unknown>)[]): Promise<void> {
    if (!this.bus.isCluster) {
      await Promise.all(steps.map((step) => step()));
      return;
    }
    for (const step of steps) await step();
  }

  async appendTimeline(underlying: string, epochId: string): Promise<void> {
    const key = this.keys.epochTimeline(underlying);
    await this.inOrder([
      () => this.bus.cmd.rpush(key, epochId),
      () => this.bus.cmd.ltrim(key, -TIMELINE_CAP, -1),
    ]);
  }

  /** Flags the epoch for model builds and nudges builders (the set first, then the nudge). */
  async markDirty(epochId: string): Promise<void> {
    await this.inOrder([
      () => this.bus.cmd.sadd(this.keys.epochDirty, epochId),
      () => this.bus.cmd.srem(this.keys.epochClean, epochId),
      () => this.bus.cmd.publish(this.keys.dirtyChannel, epochId),
    ]);
  }

  /** Reads the contract ids of an epoch from its index (never SCAN). */
  async contractIds(epochId: string): Promise<string[] | null> {
    const raw = await this.bus.cmd.getBuffer(this.keys.epochContracts(epochId));
    return raw === null ? null : decodeContractIndex(raw);
  }

  /** The substrates of `ids` as stored (null where a key is gone), in order: one MGET per chunk. */
  async substrateBytes(epochId: string, ids: readonly string[]): Promise<(Buffer | null)[]> {
    return await this.bus.getManyBuffers(ids.map((id) => this.keys.epochContract(epochId, id)));
  }

  /**
   * Live updates of an active epoch's substrates, each by the `live-substrate` script: written only over an
   * existing key, keeping its TTL (the snapshot set the TTLs; a substrate that expired is not recreated: it
   * would have no TTL and outlive its epoch), and only when the stored substrate is not newer (its `ts`
   * after the written one's: a REST refresh that landed first keeps its values). In order, on the bulk
   * writer (pre-encoded RESP, replies counted by line): through the client, the ~500 writes of a live build
   * were 500 command objects and promises built in one turn of the event loop and 500 replies resolved in
   * another, the live stream's longest main-thread turns with the WebSocket frames. EVALSHA; after a
   * NOSCRIPT (a restarted or new server) the writes are sent again as EVAL, which caches the script.
   */
  async writeLiveSubstrates(
    epochId: string,
    substrates: readonly [string, string | Buffer][],
  ): Promise<void> {
    const { lua, sha } = scriptText('live-substrate');
    const writes = (cmd: 'EVALSHA' | 'EVAL', script: string): BulkCommand[] =>
      substrates.map(([id, json]): BulkCommand => [
        cmd,
        script,
        '1',
        this.keys.epochContract(epochId, id),
        json,
      ]);
    try {
      await this.bus.writeBulk(writes('EVALSHA', sha));
    } catch (err) {
      if (!(err instanceof BulkWriteError) || !/NOSCRIPT/.test(err.message)) throw err;
      // Each write compares before it sets: one that did land is harmless to send again.
      await this.bus.writeBulk(writes('EVAL', lua));
    }
  }

  /**
   * Records a live build in the meta: `last_stream_ts` (Unix seconds) and `stream_updates` += `updates`, in
   * one script, only while the meta exists (its TTL kept): a meta that expired is not recreated without
   * one. False when it was gone.
   */
  async noteStream(epochId: string, lastStreamSec: number, updates: number): Promise<boolean> {
    return await this.bus.scripts.metaStream(this.keys.epochMeta(epochId), lastStreamSec, updates);
  }

  /**
   * A failed cycle: the active epoch stays the fallback. Its dormant_count rises; at the threshold it
   * turns dormant. Returns the new dormant_count (0 when there is no active epoch).
   */
  async recordFailure(
    underlying: string,
    dormantThreshold: number,
  ): Promise<{ epochId: string | null; dormantCount: number; dormant: boolean }> {
    const { id, view } = await this.readActive(underlying);
    if (!id || !view) return { epochId: id, dormantCount: 0, dormant: false };
    // One script: the count and the status move together, and never on an epoch retired meanwhile.
    const { count, dormant } = await this.bus.scripts.recordFailure(
      this.keys.epochMeta(id),
      dormantThreshold,
    );
    return { epochId: id, dormantCount: count, dormant };
  }
}
