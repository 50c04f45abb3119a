/**
 * @module `massive:heartbeat` on the system bus: the fleet's heartbeat. Every CHAIN_HEARTBEAT_SEC each
 * worker writes its own entry in the HASH `massive:heartbeat:workers`, composes the fleet view from every
 * entry (heartbeat-fleet.ts), SETs it as `massive:heartbeat` with the TTL and PUBLISHes the same JSON on
 * the channel `massive:heartbeat` (the aggregator listens there).
 */
import { unixSeconds } from '../lib/time.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import type { Logger } from '../lib/logger.js';
import {
  composeFleet,
  parseEntry,
  type FleetHeartbeat,
  type HeartbeatStatus,
  type LastCycle,
  type WorkerEntry,
} from './heartbeat-fleet.js';

export type { HeartbeatStatus } from './heartbeat-fleet.js';

export interface HeartbeatState {
  status: HeartbeatStatus;
  reason: string | null;
  /** The last finished cycle per symbol (ts in Unix seconds). */
  lastCycle: Record<string, LastCycle>;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private final = false;
  readonly state: HeartbeatState = { status: 'ok', reason: null, lastCycle: {} };

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly opts: {
      service: string;
      periodSec: number;
      ttlSec: number;
      logger: Logger;
      instance: string;
      /** `massive`, `sim` or `replay`: so a simulated feed is never mistaken for the real one. */
      provider?: string;
    },
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.beat().catch((err: unknown) =>
        this.opts.logger.warn({ err: (err as Error).message }, 'heartbeat write failed'),
      );
    };
    tick();
    this.timer = setInterval(tick, this.opts.periodSec * 1000);
    this.timer.unref();
  }

  set(status: HeartbeatStatus, reason: string | null): void {
    this.state.status = status;
    this.state.reason = reason;
  }

  /** This worker's entry as it stands. */
  entry(nowSec = unixSeconds()): WorkerEntry {
    return {
      instance: this.opts.instance,
      status: this.state.status,
      ts: nowSec,
      reason: this.state.reason,
      provider: this.opts.provider ?? '',
      final: this.final,
      last_cycle: this.state.lastCycle,
    };
  }

  /** Writes this worker's entry, then the fleet view (SET with expiry, and PUBLISH). Returns the view. */
  async beat(): Promise<FleetHeartbeat> {
    const r = this.bus.cmd;
    const k = this.keys;
    const now = unixSeconds();
    await r.hset(k.heartbeatWorkers, this.opts.instance, JSON.stringify(this.entry(now)));
    const stored = await r.hgetall(k.heartbeatWorkers);
    const entries = Object.fromEntries(Object.entries(stored).map(([f, v]) => [f, parseEntry(v)]));
    const { view, prune, expireSec } = composeFleet(entries, now, {
      ttlSec: this.opts.ttlSec,
      service: this.opts.service,
      instance: this.opts.instance,
    });
    const json = JSON.stringify(view);
    if (prune.length > 0) await r.hdel(k.heartbeatWorkers, ...prune);
    await r.set(k.heartbeat, json, 'EX', expireSec);
    await r.publish(k.heartbeatChannel, json);
    return view;
  }

  /** Stops the timer without writing (Redis is unreachable: the entry and the view expire by themselves). */
  halt(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Stops the timer and writes this worker's final entry with `status` (`stopped`, or `faulty` with the
   * reason of a controlled shutdown), then the fleet view: `stopped` only when no other worker is alive.
   */
  async stop(status: HeartbeatStatus, reason: string | null): Promise<FleetHeartbeat> {
    this.halt();
    this.set(status, reason);
    this.final = true;
    return this.beat();
  }
}
