/** Counts the turns of the event loop while `work` runs: a callback re-queued on every turn. */
export async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let immediates = 0;
  let done = false;
  const tick = (): void => {
    immediates++;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  done = true;
  return immediates;
}
