/**
 * @module The chain worker loop: holds per-symbol leases, runs each held symbol's cycle on its own
 * cadence, hands dirty epochs to the model builder, keeps the heartbeat, and shuts down cleanly.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/load.js';
import type { Logger } from '../lib/logger.js';
import { sleep } from '../lib/async.js';
import { unixSeconds } from '../lib/time.js';
import type { SubstrateHandoff } from '../models/substrate-handoff.js';
import { MassiveAuthError } from '../provider/massive/errors.js';
import type { MassiveChainClient } from '../provider/massive/chain-client.js';
import { cycleObservers } from '../outputs/index.js';
import { notifyCycleObservers, type CycleObserver } from '../outputs/observers.js';
import type { RedisBus } from '../redis/bus.js';
import { underlyingOf, type KeySchema } from '../redis/keys.js';
import type { Metrics } from '../serving/metrics.js';
import { AnalyticsWriter } from '../wiring/analytics.js';
import { ChainLatestStore } from '../wiring/chain-latest.js';
import { EpochStore } from '../wiring/epoch-store.js';
import { Heartbeat } from '../wiring/heartbeat.js';
import { LeaseManager } from '../wiring/leases.js';
import { FencedError } from '../wiring/epoch-store.js';
import { nextCycleDelayMs } from './cadence.js';
import { runCycle, type CycleResult } from './cycle.js';

/** Process exit codes of `chain-worker run`. */
export const EXIT = {
  ok: 0,
  internal: 1,
  config: 2,
  tooManyFailures: 3,
  auth: 4,
  /** Redis did not answer at start-up (within REDIS_CONNECT_TIMEOUT_MS). */
  redisUnavailable: 5,
  /** `run --once`: a symbol's cycle failed; `fetch`: the API does not know the symbol. */
  cycleFailed: 6,
  /** `run --once`: no symbol lease could be taken within one lease TTL (another worker holds them all). */
  noLease: 7,
} as const;

export interface WorkerDeps {
  config: Config;
  bus: RedisBus;
  /** Heartbeat bus (may be the same as `bus`). */
  systemBus: RedisBus;
  keys: KeySchema;
  client: MassiveChainClient;
  logger: Logger;
  metrics: Metrics;
  /** Called after cycles that flagged epochs dirty (the in-process model builder). */
  onDirty?: () => Promise<void>;
  /** The in-process model builder's handoff: each cycle offers it the substrates it wrote. */
  handoff?: SubstrateHandoff;
  /** Outputs told about applied snapshots, health changes, dormancy and shutdown (default: the configured ones). */
  observers?: readonly CycleObserver[];
}

export interface WorkerOptions {
  once?: boolean;
  /** Worker id (default: host-pid-random). */
  id?: string;
}

export interface SymbolState {
  nextDue: number;
  failures: number;
  /** Delay chosen after the last cycle (cadence), ms. */
  lastDelayMs: number;
  /** The last cycle was a burst (the next fetch may be capped). */
  burst: boolean;
  /** Why this symbol turns the heartbeat `degraded` (failing past CHAIN_DORMANT_THRESHOLD), or null. */
  degraded?: string | null;
}

export class ChainWorker {
  readonly id: string;
  readonly heartbeat: Heartbeat;
  readonly leases: LeaseManager;
  readonly epochs: EpochStore;
  private readonly analytics: AnalyticsWriter;
  private readonly latest: ChainLatestStore;
  private readonly observers: readonly CycleObserver[];
  private readonly abort = new AbortController();
  /** Aborted to end the loop's current sleep early (the symbols held changed, a cycle finished). */
  private nap: AbortController | undefined;
  /** The cycles under way (and their model builds), by symbol. */
  private readonly running = new Map<string, Promise<void>>();
  /** What a cycle threw (a defect, not a failed cycle): run() rethrows it once stopped. */
  private crashed: Error | undefined;
  /** Per-symbol schedule (read by tests and /readyz). */
  readonly state = new Map<string, SymbolState>();
  private exitCode: number = EXIT.ok;
  /** Time of the last successful cycle (for /readyz). */
  lastSuccessTs = 0;
  readonly lastResults = new Map<string, CycleResult>();

  constructor(
    private readonly deps: WorkerDeps,
    private readonly opts: WorkerOptions = {},
  ) {
    const { config, keys, bus, logger } = deps;
    this.id = opts.id ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    this.epochs = new EpochStore(bus, keys);
    this.analytics = new AnalyticsWriter(bus, keys, config.analyticsRetentionSec);
    this.latest = new ChainLatestStore(bus, keys, logger);
    this.observers = deps.observers ?? cycleObservers(deps);
    this.heartbeat = new Heartbeat(deps.systemBus, keys, {
      service: 'chain-worker',
      instance: this.id,
      periodSec: config.heartbeatSec,
      ttlSec: config.heartbeatTtlSec,
      logger,
      provider: config.provider,
    });
    this.leases = new LeaseManager(bus, keys, {
      owner: this.id,
      ttlMs: config.leaseTtlSec * 1000,
      symbols: config.symbols,
      logger,
    });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Asks the loop to stop; the running cycle is abandoned at its next await. */
  stop(reason = 'stopped'): void {
    if (!this.abort.signal.aborted) this.abort.abort(new Error(reason));
  }

  /** Runs until stopped (or one cycle per symbol with `once`). Resolves with the process exit code. */
  async run(): Promise<number> {
    const { config, logger } = this.deps;
    this.heartbeat.start();
    const leaseEveryMs = (config.leaseTtlSec * 1000) / 3;
    // Leases are renewed and taken over on their own timer (a long cycle must not delay a takeover);
    // a change wakes the loop so a symbol just taken over cycles at once.
    this.leases.start(leaseEveryMs, () => {
      this.applyLeaseMetrics();
      this.nap?.abort();
    });
    let nextLeaseCheck = 0;
    // `--once` with no lease: a dead holder's lease expires within one TTL, so a rebalance that starts
    // after that and still gets nothing means a live worker holds every symbol.
    const onceLeaseDeadline = Date.now() + config.leaseTtlSec * 1000;
    let lastRebalance = 0;
    try {
      for (;;) {
        if (this.abort.signal.aborted) break;
        const now = Date.now();
        if (now >= nextLeaseCheck) {
          try {
            await this.leases.rebalance();
            this.applyLeaseMetrics();
          } catch (err) {
            logger.warn({ err: (err as Error).message }, 'lease rebalance failed (Redis?)');
          }
          nextLeaseCheck = now + leaseEveryMs;
          lastRebalance = now;
        }
        const held = config.symbols.filter((s) => this.leases.held.has(s));
        this.applyHeartbeatStatus();
        // Each due symbol's cycle runs on its own: the loop does not wait for it, so a slow symbol (a burst,
        // a slow API) never holds back the cadence of another; a finished cycle wakes the loop.
        const due = held.filter(
          (s) =>
            !this.running.has(s) &&
            !(this.opts.once && this.state.has(s)) &&
            (this.state.get(s)?.nextDue ?? 0) <= Date.now(),
        );
        for (const s of due) {
          const task = this.cycleAndBuild(s)
            .catch((err: unknown) => {
              // Not a failed cycle (those are results): a defect. The run ends with it, as before.
              this.crashed ??= err instanceof Error ? err : new Error(String(err));
              this.stop('unexpected error');
            })
            .finally(() => {
              this.running.delete(s);
              this.nap?.abort();
            });
          this.running.set(s, task);
        }
        if (this.abort.signal.aborted) break;
        if (
          this.opts.once &&
          held.length > 0 &&
          this.running.size === 0 &&
          held.every((s) => this.state.has(s))
        )
          break;
        if (this.opts.once && held.length === 0 && lastRebalance > onceLeaseDeadline) {
          logger.error(
            `run --once: no symbol lease could be taken within CHAIN_LEASE_TTL_SEC (${config.leaseTtlSec} s): another worker holds every symbol; nothing fetched`,
          );
          this.exitCode = EXIT.noLease;
          break;
        }
        const idle = held.filter((s) => !this.running.has(s));
        const nextDue = Math.min(nextLeaseCheck, ...idle.map((s) => this.state.get(s)?.nextDue ?? 0));
        this.nap = new AbortController();
        await sleep(
          Math.max(10, nextDue - Date.now()),
          AbortSignal.any([this.abort.signal, this.nap.signal]),
        ).catch(() => undefined);
      }
    } finally {
      // The running cycles end at their next await once stopped (a --once run waits for them all).
      await Promise.allSettled(this.running.values());
      await this.shutdown();
    }
    if (this.crashed) throw this.crashed;
    if (this.opts.once && this.exitCode === EXIT.ok && this.failedOnce().length > 0) {
      this.deps.logger.error({ symbols: this.failedOnce() }, 'run --once: a cycle failed');
      return EXIT.cycleFailed;
    }
    return this.exitCode;
  }

  /**
   * One cycle of `symbol`, then its models: the build starts when the cycle's epoch is committed (before its
   * publish phase), or after a successful cycle that committed nothing new; a failed build is logged.
   */
  private async cycleAndBuild(symbol: string): Promise<void> {
    const onDirty = this.deps.onDirty;
    let build: Promise<void> | undefined;
    const startBuild = (): void => {
      build ??= onDirty?.().catch((err: unknown) =>
        this.deps.logger.warn({ err: (err as Error).message }, 'model build failed'),
      );
    };
    const r = await this.cycle(symbol, startBuild);
    if (r.ok) startBuild();
    await build;
  }

  /** Symbols whose last cycle failed (not counting cycles abandoned by shutdown or a lost lease). */
  failedOnce(): string[] {
    return [...this.lastResults.values()]
      .filter((r) => !r.ok && !r.abandoned && !(r.error instanceof FencedError))
      .map((r) => r.underlying);
  }

  private async cycle(symbol: string, onCommitted?: () => void): Promise<CycleResult> {
    const { config, logger } = this.deps;
    const st = this.state.get(symbol) ?? { nextDue: 0, failures: 0, lastDelayMs: 0, burst: false };
    const started = Date.now();
    const lease = this.leases.valueFor(symbol) ?? '';
    const capped = st.burst && config.burstMaxExpirations > 0;
    const deps = {
      ...this.deps,
      epochs: this.epochs,
      analytics: this.analytics,
      latest: this.latest,
      checkLease: (s: string) => this.leases.stillHeld(s),
      observers: this.observers,
      ...(onCommitted ? { onCommitted } : {}),
    };
    const result = await runCycle(deps, symbol, lease, {
      signal: this.abort.signal,
      ...(capped ? { maxExpirations: config.burstMaxExpirations } : {}),
    });
    // A cycle abandoned by shutdown is no outcome: the last real one (its epoch, its health) stays what the
    // shutdown event and the final heartbeat report.
    if (result.abandoned) return result;
    if (result.ok) st.burst = result.burst;
    await this.observeResult(this.lastResults.get(symbol), result);
    this.lastResults.set(symbol, result);
    this.heartbeat.state.lastCycle[result.underlying] = {
      ts: unixSeconds(),
      health: result.health,
      epoch_id: result.epochId,
      latency_ms: Math.round(result.cycleMs),
    };
    if (result.ok) {
      st.failures = 0;
      this.lastSuccessTs = Date.now();
      logger.info(
        {
          symbol: result.underlying,
          epochId: result.epochId,
          health: result.health,
          contracts: result.contracts,
          ms: Math.round(result.cycleMs),
        },
        'cycle done',
      );
    } else if (!this.abort.signal.aborted && !(result.error instanceof FencedError)) {
      st.failures++;
      if (result.error instanceof MassiveAuthError) {
        this.fault(EXIT.auth, `authentication failed: ${result.error.message}`);
      } else if (st.failures > config.maxConsecutiveFailures) {
        this.fault(
          EXIT.tooManyFailures,
          `${st.failures} consecutive failed cycles for ${result.underlying}: ${result.error?.message ?? ''}`,
        );
      }
    }
    this.state.set(symbol, st);
    this.updateHeartbeatStatus(result, st);
    st.lastDelayMs = nextCycleDelayMs({
      intervalMs: config.intervalSec * 1000,
      cycleMs: result.cycleMs,
      burst: result.burst,
      burstFactor: config.burstIntervalFactor,
    });
    st.nextDue = started + st.lastDelayMs;
    return result;
  }

  /**
   * Tells the observers what a cycle changed for its symbol: its health category (against this worker's
   * previous cycle of it), dormancy (the failure that reached the threshold: once, as the counter is
   * atomic in Redis) and recovery (the promotion that replaced a dormant epoch). A cycle abandoned by
   * shutdown or a lost lease changes nothing.
   */
  private async observeResult(prev: CycleResult | undefined, r: CycleResult): Promise<void> {
    if (r.abandoned || r.error instanceof FencedError || this.observers.length === 0) return;
    const { logger, config } = this.deps;
    const ts = unixSeconds();
    const base = { symbol: r.symbol, underlying: r.underlying };
    const counted = prev && !prev.abandoned && !(prev.error instanceof FencedError);
    if (counted && prev.health !== r.health)
      await notifyCycleObservers(
        this.observers,
        'healthChanged',
        { ...base, epochId: r.epochId, from: prev.health, to: r.health, ts },
        logger,
      );
    if (!r.ok && r.dormantCount === config.dormantThreshold)
      await notifyCycleObservers(
        this.observers,
        'dormant',
        {
          ...base,
          epochId: r.epochId,
          dormantCount: r.dormantCount,
          error: r.error?.message ?? 'failed',
          ts,
        },
        logger,
      );
    if (r.ok && r.promoteReason === 'recovery' && r.epochId)
      await notifyCycleObservers(
        this.observers,
        'recovered',
        { ...base, epochId: r.epochId, prevEpochId: r.prevEpochId ?? null, ts },
        logger,
      );
  }

  /**
   * A symbol turns the heartbeat `degraded` once it has failed CHAIN_DORMANT_THRESHOLD cycles in a row:
   * counted on its epoch (dormant_count, shared by the workers) or, with no epoch to mark (none promoted
   * yet, or Redis refused the counter), by this worker. Its next successful cycle clears it, unless the
   * epoch stays dormant (a partial snapshot merged into it: only a complete one recovers it); a cycle
   * abandoned for a lost lease changes nothing.
   */
  private updateHeartbeatStatus(result: CycleResult, st: SymbolState): void {
    const threshold = this.deps.config.dormantThreshold;
    if (result.ok)
      st.degraded = result.stillDormant
        ? `${result.underlying} epoch dormant: partial snapshots until a complete one recovers it`
        : null;
    else if (result.dormantCount >= threshold)
      st.degraded = `${result.underlying} epoch dormant after ${result.dormantCount} failed cycles`;
    else if (st.failures >= threshold)
      st.degraded = `${result.underlying}: ${st.failures} failed cycles in a row, ${
        result.epochId === null ? 'no active epoch to fall back on' : 'its epoch not marked dormant'
      }`;
    this.applyHeartbeatStatus();
  }

  /**
   * The heartbeat status from the symbols this worker holds: `degraded` while one of them is (with their
   * reasons), else `ok`. Also run when the leases change: a failing symbol that moved to another worker is
   * that worker's to report, and no cycle of this one would come to clear it. `faulty` stays.
   */
  private applyHeartbeatStatus(): void {
    if (this.heartbeat.state.status === 'faulty') return;
    const reasons = this.deps.config.symbols
      .filter((s) => this.leases.held.has(s))
      .map((s) => this.state.get(s)?.degraded)
      .filter((r): r is string => typeof r === 'string');
    if (reasons.length > 0) this.heartbeat.set('degraded', reasons.join('; '));
    else if (this.heartbeat.state.status === 'degraded') this.heartbeat.set('ok', null);
  }

  /**
   * The lease gauges follow the symbols held: the count, and no last-success time for a symbol another
   * worker now cycles (its alert, `time() - that`, would page here for a symbol that is fine there).
   */
  private applyLeaseMetrics(): void {
    const { metrics, config } = this.deps;
    metrics.leasesHeld.set(this.leases.held.size);
    for (const s of config.symbols)
      if (!this.leases.held.has(s)) metrics.lastSuccess.remove({ symbol: underlyingOf(s) });
  }

  private fault(code: number, reason: string): void {
    this.exitCode = code;
    this.heartbeat.set('faulty', reason);
    this.deps.logger.error({ reason, exitCode: code }, 'controlled shutdown');
    this.stop(reason);
  }

  private shutdownDone: Promise<void> | undefined;

  /**
   * Idempotent: tells the observers (the `shutdown` event), releases leases, writes the final heartbeat.
   * Every step runs even if one throws. With Redis unreachable none is tried (they would only wait).
   */
  shutdown(): Promise<void> {
    this.shutdownDone ??= (async () => {
      const { logger, bus, systemBus } = this.deps;
      // With Redis unreachable every step below would wait out the client's reconnect attempts (seconds each)
      // and the 15 s hard limit would end the process (exit 1): leases and the heartbeat expire by themselves.
      if (!bus.connected || !systemBus.connected) {
        logger.warn(
          { leases: [...this.leases.held.keys()], leaseTtlSec: this.deps.config.leaseTtlSec },
          'Redis unreachable at shutdown: leases and heartbeat left to expire',
        );
        this.leases.stop();
        this.heartbeat.halt();
        return;
      }
      const faultyNow = this.heartbeat.state.status === 'faulty';
      const aborted = this.abort.signal.reason as Error | undefined;
      await notifyCycleObservers(
        this.observers,
        'shutdown',
        {
          worker: this.id,
          status: faultyNow ? 'faulty' : 'stopped',
          reason:
            this.heartbeat.state.reason ??
            aborted?.message ??
            (this.opts.once ? 'run --once finished' : 'shutdown'),
          symbols: [...this.leases.held.keys()].map((s) => ({
            underlying: underlyingOf(s),
            epochId: this.lastResults.get(s)?.epochId ?? null,
          })),
          ts: unixSeconds(),
        },
        logger,
      );
      try {
        await this.leases.releaseAll();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'could not release leases');
      }
      const faulty = this.heartbeat.state.status === 'faulty';
      try {
        await this.heartbeat.stop(faulty ? 'faulty' : 'stopped', this.heartbeat.state.reason ?? 'shutdown');
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'could not write the final heartbeat');
      }
    })();
    return this.shutdownDone;
  }
}
