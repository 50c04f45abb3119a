/**
 * @module A token bucket shared by every request stream of the client.
 */
import { sleep } from '../../lib/async.js';

export class RateLimiter {
  private tokens: number;
  private last = performance.now();
  private queue: Promise<void> = Promise.resolve();

  /**
   * @param rps requests per second (0 = unlimited)
   * @param burst bucket size: requests allowed back to back before pacing starts
   */
  constructor(
    private readonly rps: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Waits for a token. Callers are served in order. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.rps <= 0) return Promise.resolve();
    const turn = this.queue.then(() => this.take(signal));
    // Keep the chain alive when one waiter is aborted.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async take(signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rps) / 1000);
    this.last = now;
    if (this.tokens < 1) {
      const waitMs = ((1 - this.tokens) * 1000) / this.rps;
      await sleep(waitMs, signal);
      this.tokens = 1;
      this.last = performance.now();
    }
    this.tokens -= 1;
  }
}
