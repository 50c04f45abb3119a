/**
 * @module Per-symbol worker leases: set-if-absent with expiry, renewed on a timer, with a fencing token
 * (`{owner}|{n}`, n from a per-symbol counter) that the promotion script checks, so a worker that lost
 * its lease can never flip `epoch:active`.
 *
 * Sharing: live workers register in `massive:chain:workers`; each holds at most ceil(symbols / workers)
 * symbols, preferring symbols by rendezvous hash so the assignment is stable. A worker over its share
 * releases the surplus; a dead worker's leases expire and the others take them.
 *
 * Takeover bound: a dead worker's last renewal (of its lease and its registry entry) is at most its death;
 * both expire at most TTL later; every other worker checks every TTL/3 on a timer of its own (never delayed
 * by a long cycle), so a dead worker's symbols move within **TTL + TTL/3** of its death.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../lib/logger.js';
import { unixSeconds } from '../lib/time.js';
import type { RedisBus } from '../redis/bus.js';
import { underlyingOf, type KeySchema } from '../redis/keys.js';

export interface LeaseOptions {
  owner: string;
  ttlMs: number;
  symbols: readonly string[];
  logger: Logger;
}

function rendezvous(owner: string, symbol: string): string {
  return createHash('sha1').update(`${owner}|${symbol}`).digest('hex');
}

export class LeaseManager {
  /** symbol → lease value held. */
  readonly held = new Map<string, string>();
  private running: Promise<string[]> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /**
   * The TTL sent as PX: whole milliseconds (CHAIN_LEASE_TTL_SEC × 1000 is not always one in floating point,
   * 16.1 s gives 16100.000000000002, and Redis refuses a PX that is not an integer).
   */
  private readonly ttlMs: number;

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly opts: LeaseOptions,
  ) {
    this.ttlMs = Math.max(1, Math.round(opts.ttlMs));
  }

  /** The lease value for `symbol` if held. */
  valueFor(symbol: string): string | undefined {
    return this.held.get(symbol);
  }

  /**
   * Renews and rebalances every `everyMs` (TTL/3) on a timer of its own, so a long cycle never delays
   * renewing or taking over a symbol. `onChange` is called when the symbols held changed.
   */
  start(everyMs: number, onChange: () => void = () => undefined): void {
    if (this.timer || this.stopped) return;
    const tick = async (): Promise<void> => {
      const before = [...this.held.keys()].join(',');
      try {
        await this.rebalance();
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message }, 'lease rebalance failed (Redis?)');
      }
      if ([...this.held.keys()].join(',') !== before) onChange();
      if (!this.stopped) this.timer = setTimeout(() => void tick(), everyMs);
    };
    this.timer = setTimeout(() => void tick(), everyMs);
  }

  /** Stops the timer (a rebalance in flight finishes). Idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Renews held leases, registers this worker, and takes or releases symbols towards a fair share.
   * Returns the symbols held afterwards. Concurrent calls share one run.
   */
  rebalance(): Promise<string[]> {
    this.running ??= this.rebalanceOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async rebalanceOnce(): Promise<string[]> {
    const r = this.bus.cmd;
    const now = Date.now();
    // Scores are Unix seconds (the one time unit in Redis).
    await r.zadd(this.keys.workers, unixSeconds(now), this.opts.owner);
    await r.zremrangebyscore(this.keys.workers, '-inf', `(${unixSeconds(now - this.ttlMs)}`);
    const live = Math.max(1, await r.zcard(this.keys.workers));
    const share = Math.ceil(this.opts.symbols.length / live);

    for (const symbol of [...this.held.keys()]) await this.stillHeld(symbol);
    const ordered = [...this.opts.symbols].sort((a, b) =>
      rendezvous(this.opts.owner, a) < rendezvous(this.opts.owner, b) ? 1 : -1,
    );
    // Surplus: release the least preferred symbols first.
    while (this.held.size > share) {
      const victim = [...ordered].reverse().find((s) => this.held.has(s));
      if (!victim) break;
      await this.release(victim);
      this.opts.logger.info({ symbol: victim, share, live }, 'lease released to rebalance');
    }
    for (const symbol of ordered) {
      if (this.held.size >= share) break;
      if (this.held.has(symbol)) continue;
      const u = underlyingOf(symbol);
      const value = await this.bus.scripts.leaseAcquire(
        this.keys.workerLease(u),
        this.keys.workerFence(u),
        this.opts.owner,
        this.ttlMs,
      );
      if (value !== null) {
        this.held.set(symbol, value);
        this.opts.logger.info({ symbol, lease: value }, 'lease acquired');
      }
    }
    return this.opts.symbols.filter((s) => this.held.has(s));
  }

  /** Renews the lease if this worker still holds it; false (and forgotten) when it was lost. */
  async stillHeld(symbol: string): Promise<boolean> {
    const value = this.held.get(symbol);
    if (!value) return false;
    const ok = await this.bus.scripts.leaseRenew(
      this.keys.workerLease(underlyingOf(symbol)),
      value,
      this.ttlMs,
    );
    if (ok) return true;
    this.held.delete(symbol);
    this.opts.logger.warn({ symbol }, 'lease lost');
    return false;
  }

  async release(symbol: string): Promise<void> {
    const value = this.held.get(symbol);
    this.held.delete(symbol);
    if (value) await this.bus.scripts.leaseRelease(this.keys.workerLease(underlyingOf(symbol)), value);
  }

  /** Stops the timer, then releases every lease and leaves the worker registry. */
  async releaseAll(): Promise<void> {
    this.stop();
    await this.running?.catch(() => undefined);
    for (const symbol of [...this.held.keys()]) await this.release(symbol);
    await this.bus.cmd.zrem(this.keys.workers, this.opts.owner);
  }
}
