/** A count of the event loop's turns, kept by a callback re-queued on every turn until `stop()`. */
export function turnCounter(): { readonly turns: number; stop(): void } {
  let turns = 0;
  let ticking = true;
  const tick = (): void => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turns() {
      return turns;
    },
    stop() {
      ticking = false;
    },
  };
}

/** Counts the turns of the event loop while `work` runs. */
export async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  const counter = turnCounter();
  await work();
  counter.stop();
  return counter.turns;
}
