/**
 * @module `massive:heartbeat` on the system bus: STRING JSON, SET every CHAIN_HEARTBEAT_SEC with a TTL.
 */
import { unixSeconds } from '../lib/time.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import type { Logger } from '../lib/logger.js';

export type HeartbeatStatus = 'ok' | 'degraded' | 'faulty' | 'stopped';

export interface HeartbeatState {
  status: HeartbeatStatus;
  reason: string | null;
  /** The last finished cycle per symbol. */
  lastCycle: Record<string, { ts: number; health: string; epoch_id: string | null; latency_ms: number }>;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
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

  /** Writes the heartbeat now. */
  async beat(): Promise<void> {
    const body = {
      service: this.opts.service,
      instance: this.opts.instance,
      status: this.state.status,
      ts: unixSeconds(),
      last_cycle: this.state.lastCycle,
      reason: this.state.reason,
    };
    await this.bus.cmd.set(this.keys.heartbeat, JSON.stringify(body), 'EX', this.opts.ttlSec);
  }

  /** Stops the timer and writes a final heartbeat with `status`. */
  async stop(status: HeartbeatStatus, reason: string | null): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.set(status, reason);
    await this.beat();
  }
}
