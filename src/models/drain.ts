/**
 * @module The builder's drain: builds every dirty epoch once, as many at a time as the caller's build
 * allows (the model threads), one at a time per symbol so an older epoch never lands after a newer one.
 * Calls made while a drain runs coalesce into it and make it scan `epoch:dirty` again at once, so an
 * epoch committed meanwhile starts without waiting for the others. Knows nothing of Redis: the builder
 * gives it the scan, the build and the outputs to wait for.
 */

export interface DrainSteps<O> {
  /** The dirty epoch ids, as `epoch:dirty` holds them now. */
  dirtyIds(): Promise<string[]>;
  /** Builds one epoch (its outcome, or a throw that fails the drain once every build has ended). */
  build(epochId: string): Promise<O>;
  /** Waits for the outputs that must be written before a drain answers (MarketSwarm's). */
  outputsIdle(): Promise<void>;
  /** Stopping: no new scan and no new build. */
  stopped(): boolean;
}

/** The symbol of an epoch id (`{U}:{seconds}:{random}`). */
function symbolOf(epochId: string): string {
  return epochId.split(':')[0] ?? '';
}

export class Drain<O> {
  private running: Promise<O[]> | undefined;
  private again = false;
  /** Wakes a running drain to scan again (set while it waits for builds). */
  private wake: (() => void) | undefined;

  constructor(private readonly steps: DrainSteps<O>) {}

  /** Builds every dirty epoch once; a call while a drain runs joins it (and makes it scan again). */
  run(): Promise<O[]> {
    if (this.running) {
      this.again = true;
      this.wake?.();
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** The drain running now, if any (never rejects). */
  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async loop(): Promise<O[]> {
    const { steps } = this;
    const all: O[] = [];
    /** Builds in flight by symbol. */
    const inFlight = new Map<string, { epochId: string; done: Promise<void> }>();
    const queue: string[] = [];
    /** In-flight epochs a scan found dirty: scanned again when their build ends (a refresh may have landed). */
    const seenInFlight = new Set<string>();
    let failure: Error | undefined;
    let scan = true;
    for (;;) {
      if (scan && !steps.stopped()) {
        scan = false;
        this.again = false;
        for (const id of await steps.dirtyIds()) {
          if ([...inFlight.values()].some((b) => b.epochId === id)) seenInFlight.add(id);
          else if (!queue.includes(id)) queue.push(id);
        }
      }
      for (let i = 0; i < queue.length && !steps.stopped();) {
        const id = queue[i] as string;
        const symbol = symbolOf(id);
        if (inFlight.has(symbol)) {
          i++;
          continue;
        }
        queue.splice(i, 1);
        const done = steps.build(id).then(
          (o) => void all.push(o),
          (err: unknown) => void (failure ??= err instanceof Error ? err : new Error(String(err))),
        );
        inFlight.set(symbol, {
          epochId: id,
          done: done.finally(() => {
            inFlight.delete(symbol);
            if (seenInFlight.delete(id)) scan = true;
          }),
        });
      }
      if (inFlight.size === 0 && (queue.length === 0 || steps.stopped())) {
        if (this.again && !steps.stopped()) {
          scan = true;
          continue;
        }
        if (failure !== undefined) throw failure;
        await steps.outputsIdle();
        if (this.again && !steps.stopped()) {
          scan = true;
          continue;
        }
        return all;
      }
      if (this.again) {
        scan = true;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        for (const b of inFlight.values()) void b.done.then(resolve);
      });
      this.wake = undefined;
      if (this.again) scan = true;
    }
  }
}
