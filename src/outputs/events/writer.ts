/**
 * @module Writes `massive:events`: the chain worker's lifecycle events (as a cycle observer) and the level
 * events of successive GEX builds (as a model observer). Lifecycle events are emitted by the one worker
 * that did the thing (a promotion is fenced; the dormant counter is atomic), so a plain XADD is exactly
 * once. Level events are computed from a per-symbol state kept in Redis and applied by one script that
 * checks the state version and the build's as-of, so a builder restart resumes where the last build
 * stopped and two builders never report one crossing twice.
 */
import type { Config } from '../../config/load.js';
import { unixSeconds } from '../../lib/time.js';
import type { Logger } from '../../lib/logger.js';
import type { RedisBus } from '../../redis/bus.js';
import type { KeySchema } from '../../redis/keys.js';
import type { ChainEvent } from '../../schemas/published.js';
import type {
  CycleObserver,
  HealthChanged,
  ModelObserver,
  ModelsPublished,
  SnapshotApplied,
  SymbolDormant,
  SymbolRecovered,
  WorkerShutdown,
} from '../observers.js';
import {
  dormantEvent,
  healthEvent,
  levelEventJson,
  promotedEvent,
  recoveredEvent,
  shutdownEvent,
} from './event-json.js';
import { levelEvents, parseLevelState, type LevelParams } from './levels.js';

/** The level state of a symbol no build has touched for this long expires (a removed symbol). */
export const LEVEL_STATE_TTL_SEC = 30 * 86_400;
/** Recomputations when another builder applied a build between our read and our write. */
const LEVEL_RETRIES = 5;

export type EventsConfig = Pick<
  Config,
  'eventsMaxLen' | 'eventsZeroGammaBandPct' | 'eventsRegimeBandPct' | 'eventsWallConfirmBuilds'
>;

export function levelParamsOf(c: EventsConfig): LevelParams {
  return {
    zeroGammaBandPct: c.eventsZeroGammaBandPct,
    regimeBandPct: c.eventsRegimeBandPct,
    wallConfirmBuilds: c.eventsWallConfirmBuilds,
  };
}

export class EventsOutput implements CycleObserver, ModelObserver {
  readonly name = 'events';

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly config: EventsConfig,
    private readonly logger: Logger,
  ) {}

  /** XADDs one event; returns its stream id. */
  async emit(event: ChainEvent): Promise<string> {
    const id = await this.bus.cmd.xadd(
      this.keys.events,
      'MAXLEN',
      '~',
      String(this.config.eventsMaxLen),
      '*',
      'payload',
      JSON.stringify(event),
    );
    this.logger.debug({ id, type: event.type, symbol: event.symbol }, 'event');
    return id ?? '';
  }

  async snapshotApplied(e: SnapshotApplied): Promise<void> {
    const ev = promotedEvent(e);
    if (ev) await this.emit(ev);
  }

  async healthChanged(e: HealthChanged): Promise<void> {
    await this.emit(healthEvent(e));
  }

  async dormant(e: SymbolDormant): Promise<void> {
    await this.emit(dormantEvent(e));
  }

  async recovered(e: SymbolRecovered): Promise<void> {
    await this.emit(recoveredEvent(e));
  }

  async shutdown(e: WorkerShutdown): Promise<void> {
    await this.emit(shutdownEvent(e));
  }

  /** The level events of one GEX build; returns the stream ids written (none: nothing crossed, or already applied). */
  async modelsPublished(e: ModelsPublished): Promise<void> {
    await this.applyLevels(e);
  }

  /** Live builds (`trigger: stream`) are left out: the levels are judged on REST snapshots only. */
  async applyLevels(e: ModelsPublished): Promise<string[]> {
    if (!e.levels || e.trigger !== 'snapshot') return [];
    const asOfMs = Math.round(e.asOf ?? e.ts);
    const stateKey = this.keys.eventLevels(e.underlying);
    const input = { spot: e.spot, ...e.levels };
    for (let attempt = 0; attempt < LEVEL_RETRIES; attempt++) {
      const [v, raw] = await this.bus.cmd.hmget(stateKey, 'v', 'state');
      const { events, state } = levelEvents(parseLevelState(raw), input, levelParamsOf(this.config));
      const json = events.map((l) =>
        JSON.stringify(
          levelEventJson(l, { symbol: e.underlying, epochId: e.epochId, asOfMs, nowMs: Date.now() }),
        ),
      );
      const out = await this.bus.scripts.eventLevels(
        { state: stateKey, stream: this.keys.events },
        {
          version: v ?? '',
          asOf: unixSeconds(asOfMs),
          state: JSON.stringify(state),
          maxLen: this.config.eventsMaxLen,
          ttlSec: LEVEL_STATE_TTL_SEC,
          events: json,
        },
      );
      if (out.ok) return out.ids;
      if (out.why === 'stale') return [];
    }
    this.logger.warn({ symbol: e.underlying }, 'level events: state kept changing; build skipped');
    return [];
  }
}
