/**
 * @module A count of work in flight that other work may wait out: {@link QuietGate.hold} while it runs,
 * {@link QuietGate.whenQuiet} to wait, at most a bounded time, until none is.
 *
 * The process's {@link modelWork}: snapshot cycles and model builds in flight. The history's encodes, which
 * run on the model thread after its builds (one message at a time), wait for it to be quiet: an encode of a
 * burst heatmap takes 80–140 ms with ~40 MB of buffers, and ran beside the other symbol's build and page
 * decoding. Measured (growth, 20,000 contracts, three interleaved pairs): peak RSS 194–237 → 192–194 MB;
 * the burst's time did not move beyond its spread (README "Performance", the performance log of 5 Dec).
 */

export class QuietGate {
  private held = 0;
  private waiters: (() => void)[] = [];

  /** Work in flight until the returned function is called (once; later calls do nothing). */
  hold(): () => void {
    this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
      if (this.held === 0) this.wake();
    };
  }

  /** True when nothing is held. */
  get quiet(): boolean {
    return this.held === 0;
  }

  /**
   * Resolves at once when nothing is held, else when the last hold is released, after `maxWaitMs`, or when
   * `signal` aborts, whichever comes first (the timer never keeps the process alive).
   */
  whenQuiet(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    if (this.held === 0 || maxWaitMs <= 0 || signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      timer.unref();
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}

/** The process's snapshot cycles and model builds in flight (see the module's note). */
export const modelWork = new QuietGate();
