/**
 * @module The Lua scripts of `src/redis/scripts/`, behind one typed function each: the key count is
 * declared here (not read from a file name), arguments and results are typed, and an error reply is
 * matched by its code (its first word, e.g. `FENCED`), never by searching its message.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { PACKAGE_ROOT } from '../lib/repo-paths.js';
import { replyCode } from './errors.js';

/** Each script's file (without `.lua`) and its key count; `null`: the caller passes a count per call. */
export const SCRIPT_KEYS = {
  'promote-epoch': null,
  'mark-clean': 3,
  'commit-latest': 6,
  'lease-acquire': 2,
  'lease-renew': 1,
  'lease-release': 1,
  'events-levels': 2,
  'live-substrate': 1,
  'meta-stream': 1,
  'record-failure': 1,
  'confirm-active': 2,
} as const satisfies Record<string, number | null>;
export type ScriptName = keyof typeof SCRIPT_KEYS;
export const SCRIPT_NAMES = Object.keys(SCRIPT_KEYS) as ScriptName[];

const SCRIPT_DIR = resolve(PACKAGE_ROOT, 'src/redis/scripts');
let sources: Record<ScriptName, string> | undefined;

/** Every script's source, read once. */
function scriptSources(): Record<ScriptName, string> {
  if (!sources) {
    const loaded = {} as Record<ScriptName, string>;
    for (const name of SCRIPT_NAMES) loaded[name] = readFileSync(resolve(SCRIPT_DIR, `${name}.lua`), 'utf8');
    sources = loaded;
  }
  return sources;
}

/**
 * A script as the bulk writer sends it (EVALSHA on its raw connections, which have no EVAL fallback of
 * their own): the source and its SHA-1.
 */
export function scriptText(name: ScriptName): { lua: string; sha: string } {
  const lua = scriptSources()[name];
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** The command name ioredis gives a script (`promote-epoch` → `script_promote_epoch`). */
const commandName = (name: ScriptName): string => `script_${name.replace(/-/g, '_')}`;

/** Defines every script as a command of `client` (EVALSHA with an EVAL fallback, done by ioredis). */
export function defineScripts(client: Redis | Cluster): void {
  const all = scriptSources();
  for (const name of SCRIPT_NAMES) {
    const n = SCRIPT_KEYS[name];
    client.defineCommand(commandName(name), {
      lua: all[name],
      ...(n === null ? {} : { numberOfKeys: n }),
    });
  }
}

/**
 * A script answered with an error reply: `code` is the reply's first word (`FENCED`, `MISSING`, `OOM`…),
 * the reply itself the `cause` (so a refusal such as `OOM` is still counted `redis`, a bug `internal`).
 */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  constructor(
    readonly script: ScriptName,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${script}: ${message}`, options);
  }
}

/** `promote-epoch`'s keys: the meta and index are checked on a single server only (other slots on a cluster). */
export interface PromoteKeys {
  active: string;
  lease: string;
  meta?: string;
  contracts?: string;
}

type Invoke = (...args: (string | number)[]) => Promise<unknown>;

/** One typed function per script. */
export class RedisScripts {
  constructor(private readonly client: Redis | Cluster) {}

  private async run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const declared = SCRIPT_KEYS[name];
    if (declared !== null && keys.length !== declared)
      throw new Error(`script ${name} takes ${declared} keys, got ${keys.length}`);
    const fn = (this.client as unknown as Record<string, Invoke>)[commandName(name)];
    if (!fn) throw new Error(`script ${name} is not defined`);
    try {
      return await (declared === null
        ? fn.call(this.client, keys.length, ...keys, ...args)
        : fn.call(this.client, ...keys, ...args));
    } catch (err) {
      const code = replyCode(err);
      if (code !== null) throw new ScriptError(name, code, (err as Error).message, { cause: err });
      throw err;
    }
  }

  /**
   * Flips `epoch:active[symbol]` to `epochId` if `leaseValue` ("" skips the check) still holds the lease
   * and (single server) the epoch's meta and index exist. The previous epoch id, or null. Error codes:
   * `FENCED` (lease lost), `MISSING` (the epoch's keys are gone).
   */
  async promoteEpoch(
    keys: PromoteKeys,
    symbol: string,
    epochId: string,
    leaseValue: string,
  ): Promise<string | null> {
    const list = [keys.active, keys.lease];
    if (keys.meta !== undefined && keys.contracts !== undefined) list.push(keys.meta, keys.contracts);
    const prev = await this.run('promote-epoch', list, [symbol, epochId, leaseValue]);
    return typeof prev === 'string' && prev !== '' ? prev : null;
  }

  /**
   * Whether `epoch:active[symbol]` is still `epochId`, read with the lease in one step. Error code `FENCED`:
   * `leaseValue` ("" skips the check) no longer holds the lease.
   */
  async confirmActive(
    keys: { active: string; lease: string },
    symbol: string,
    epochId: string,
    leaseValue: string,
  ): Promise<boolean> {
    return (await this.run('confirm-active', [keys.active, keys.lease], [symbol, epochId, leaseValue])) === 1;
  }

  /** Moves an epoch from dirty to clean if its meta's `last_refresh_ts` is still `refreshTs` ("" = absent). */
  async markClean(
    keys: { meta: string; dirty: string; clean: string },
    epochId: string,
    refreshTs: string,
  ): Promise<boolean> {
    return (await this.run('mark-clean', [keys.meta, keys.dirty, keys.clean], [epochId, refreshTs])) === 1;
  }

  /**
   * Makes the assembled document under `keys.staging` the current `massive:chain:latest` with its `layout`
   * (field, value pairs) unless another assembly was committed since `rev` was read: 0 stale (staging
   * deleted), 1 current, 2 current with a new `version` (announced on `channel`).
   */
  async commitLatest(
    keys: {
      rev: string;
      staging: string;
      latest: string;
      publishedVersion: string;
      version: string;
      layout: string;
    },
    rev: string,
    version: number,
    channel: string,
    layout: readonly string[],
  ): Promise<0 | 1 | 2> {
    const out = Number(
      await this.run(
        'commit-latest',
        [keys.rev, keys.staging, keys.latest, keys.publishedVersion, keys.version, keys.layout],
        [rev, String(version), channel, ...layout],
      ),
    );
    return out === 2 ? 2 : out === 1 ? 1 : 0;
  }

  /**
   * Counts a failed cycle against the epoch whose meta is `meta`: its new dormant count and whether it is
   * dormant now (the threshold reached); `{count: 0, dormant: false}` when the meta is gone or the epoch
   * was retired (nothing changed).
   */
  async recordFailure(meta: string, dormantThreshold: number): Promise<{ count: number; dormant: boolean }> {
    const out = await this.run('record-failure', [meta], [dormantThreshold]);
    const [count, dormant] = Array.isArray(out) ? (out as unknown[]) : [];
    return { count: Number(count ?? 0), dormant: dormant === 1 };
  }

  /** Takes a free lease or extends the caller's own: the value held (`{owner}|{fence}`), or null. */
  async leaseAcquire(lease: string, fence: string, owner: string, ttlMs: number): Promise<string | null> {
    const v = await this.run('lease-acquire', [lease, fence], [owner, ttlMs]);
    return typeof v === 'string' ? v : null;
  }

  /** Extends a lease that still holds `value`; false when it was lost. */
  async leaseRenew(lease: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.run('lease-renew', [lease], [value, ttlMs])) === 1;
  }

  /** Deletes a lease that still holds `value`; false when it did not. */
  async leaseRelease(lease: string, value: string): Promise<boolean> {
    return (await this.run('lease-release', [lease], [value])) === 1;
  }

  /** Notes a live build in an epoch's meta if the meta still exists (meta-stream.lua): false when it is gone. */
  async metaStream(meta: string, lastStreamSec: number, updates: number): Promise<boolean> {
    return (await this.run('meta-stream', [meta], [lastStreamSec, updates])) === 1;
  }

  /**
   * Applies one GEX build's level events (events-levels.lua): stores `state` and XADDs `events` if the
   * state is still at `version` and `asOf` (Unix seconds) is newer than the last build applied. The
   * stream ids written; `retry` (another build landed: reread and recompute) or `stale` (already applied).
   */
  async eventLevels(
    keys: { state: string; stream: string },
    a: { version: string; asOf: number; state: string; maxLen: number; ttlSec: number; events: string[] },
  ): Promise<{ ok: true; ids: string[] } | { ok: false; why: 'retry' | 'stale' }> {
    const out = (await this.run(
      'events-levels',
      [keys.state, keys.stream],
      [a.version, a.asOf, a.state, a.maxLen, a.ttlSec, ...a.events],
    )) as string[];
    if (out[0] === 'ok') return { ok: true, ids: out.slice(1) };
    return { ok: false, why: out[0] === 'stale' ? 'stale' : 'retry' };
  }
}
