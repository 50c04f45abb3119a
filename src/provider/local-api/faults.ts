/**
 * @module Fault injection: latency, random error rates drawn from a seeded PRNG, hard switches
 * (`down`, `unauthorized`, `nextUrlLoop`) and a deterministic queue consumed one entry per API request.
 */
import { z } from 'zod';
import { mulberry32 } from '../sim/prng.js';

/** A fault that can be scripted for the next request. */
export type QueuedFault = '429' | '500' | '503' | 'timeout' | 'malformed' | 'truncated' | '401';
export const QUEUED_FAULTS: readonly QueuedFault[] = [
  '429',
  '500',
  '503',
  'timeout',
  'malformed',
  'truncated',
  '401',
];

export interface FaultConfig {
  /**
   * Added before answering every chain request (`/v3/snapshot/options/{underlying}`), injected error answers
   * included (a `timeout` is never answered anyway). Other endpoints are not delayed. @defaultValue 0
   */
  latencyMs: number;
  /** Share of API requests answered 500. @defaultValue 0 */
  errorRate: number;
  /** Share of API requests answered 429 with `Retry-After`. @defaultValue 0 */
  rate429: number;
  /** `Retry-After` seconds on 429s. @defaultValue 1 */
  retryAfterSec: number;
  /** Share of API requests accepted and never answered. @defaultValue 0 */
  timeoutRate: number;
  /** Share of API requests answered 200 with a body that is not JSON. @defaultValue 0 */
  malformedRate: number;
  /** Share of API requests whose body is cut in half and the socket destroyed. @defaultValue 0 */
  truncatedRate: number;
  /** Chain pages always carry a `next_url`, and a page fetched by cursor points at that same cursor. @defaultValue false */
  nextUrlLoop: boolean;
  /** Every API request is answered 401. @defaultValue false */
  unauthorized: boolean;
  /** Every API request is answered 503. @defaultValue false */
  down: boolean;
  /** Faults for the next API requests, one entry per request, in order. @defaultValue [] */
  queue: QueuedFault[];
}

export const DEFAULT_FAULTS: Readonly<FaultConfig> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  rate429: 0,
  retryAfterSec: 1,
  timeoutRate: 0,
  malformedRate: 0,
  truncatedRate: 0,
  nextUrlLoop: false,
  unauthorized: false,
  down: false,
  queue: [],
});

const rate = z.number().min(0).max(1);

/** A JSON patch of the fault config (`POST /__admin/faults`); `reset: true` first restores the defaults. */
export const faultPatchSchema = z.strictObject({
  reset: z.boolean().optional(),
  latencyMs: z.number().min(0).max(600_000).optional(),
  errorRate: rate.optional(),
  rate429: rate.optional(),
  retryAfterSec: z.number().min(0).max(86_400).optional(),
  timeoutRate: rate.optional(),
  malformedRate: rate.optional(),
  truncatedRate: rate.optional(),
  nextUrlLoop: z.boolean().optional(),
  unauthorized: z.boolean().optional(),
  down: z.boolean().optional(),
  queue: z.array(z.enum(['429', '500', '503', 'timeout', 'malformed', 'truncated', '401'])).optional(),
});
export type FaultPatch = z.infer<typeof faultPatchSchema>;

/** Holds the fault config and decides, request by request, which fault (if any) to inject. */
export class FaultInjector {
  private cfg: FaultConfig = { ...DEFAULT_FAULTS, queue: [] };
  private readonly random: () => number;

  constructor(seed: number, initial: Partial<FaultConfig> = {}) {
    this.random = mulberry32(seed ^ 0x5eed_fa17);
    this.set(initial);
  }

  /** A copy of the current config. */
  config(): FaultConfig {
    return { ...this.cfg, queue: [...this.cfg.queue] };
  }

  /** Merges a partial config (validated); a `queue` replaces the pending one. */
  set(patch: Partial<FaultConfig> & { reset?: boolean }): FaultConfig {
    const p = faultPatchSchema.parse(patch);
    const { reset, queue, ...rest } = p;
    if (reset) this.cfg = { ...DEFAULT_FAULTS, queue: [] };
    const next: FaultConfig = { ...this.cfg };
    for (const [k, v] of Object.entries(rest))
      if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
    if (queue) next.queue = [...queue];
    this.cfg = next;
    return this.config();
  }

  reset(): void {
    this.cfg = { ...DEFAULT_FAULTS, queue: [] };
  }

  /** The scripted or random fault for the next API request, or null. Consumes one queue entry. */
  next(): QueuedFault | null {
    const queued = this.cfg.queue.shift();
    if (queued) return queued;
    const c = this.cfg;
    const total = c.timeoutRate + c.rate429 + c.errorRate + c.malformedRate + c.truncatedRate;
    if (total <= 0) return null;
    let u = this.random();
    const bands: Array<[number, QueuedFault]> = [
      [c.timeoutRate, 'timeout'],
      [c.rate429, '429'],
      [c.errorRate, '500'],
      [c.malformedRate, 'malformed'],
      [c.truncatedRate, 'truncated'],
    ];
    for (const [share, fault] of bands) {
      if (u < share) return fault;
      u -= share;
    }
    return null;
  }
}
