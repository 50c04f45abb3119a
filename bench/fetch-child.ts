/**
 * @module The fetch scenario in a process of its own, started as `bin/chain-worker` is (its launch line:
 * malloc settings and young-generation size, see launch-line.ts), so the fetch is measured as the worker
 * runs it; the floor runs in the same process, under the same settings. Prints one JSON line.
 *
 * Each run: the API's chains are warmed (sim-warm.ts), ours is timed, warmed again, the floor is timed,
 * then one stream at a time.
 */
import { parseArgs } from 'node:util';
import { CHILD_OPTIONS } from './child-options.js';
import { fetchFloor, recordStreams } from './fetch-floor.js';
import { fetchBoth, fetchPhase, type FetchRun } from './scenarios.js';
import { warmChains } from './sim-warm.js';
import { BENCH_API_KEY, createStack, STDERR_SCHED_LOG } from './stack.js';
import { applyMainThreadSched, taskPolicy } from '../src/lib/main-thread-sched.js';

export interface FetchChildResult {
  conc: FetchRun[];
  floor: { ms: number; pages: number }[];
  serial: FetchRun[];
  /** API requests per second over the runs (warm-up requests excluded). */
  observedRps: number;
  /** The main thread's scheduling policy (Linux's number; null where unreadable): ours and the floor's. */
  mainThreadPolicy: number | null;
}

const { values } = parseArgs({
  options: {
    ...CHILD_OPTIONS,
  },
});

async function requestsServed(api: string): Promise<number> {
  const res = await fetch(`${api}/__admin/stats`);
  return ((await res.json()) as { requests: number }).requests;
}

async function main(): Promise<void> {
  const api = values.api ?? '';
  const concurrency = Number(values.concurrency);
  const rate = Number(values.rate);
  const opts = { apiUrl: api, redisUrl: values.redis ?? '', rateLimit: rate };
  const stack = await createStack({ ...opts, concurrency });
  const seq = await createStack({ ...opts, concurrency: 1 });
  // As the worker's start-up does; the floor runs in this process too, under the same policy.
  await applyMainThreadSched(stack.config.mainThreadSched, STDERR_SCHED_LOG);
  try {
    await fetchBoth(stack); // discovery, as a running worker has it cached
    await fetchPhase(seq, true);
    const streams = await recordStreams(stack.provider.http, () => fetchBoth(stack));
    const floorOpts = { origin: api, apiKey: BENCH_API_KEY, concurrency, rateLimit: rate };
    const out: FetchChildResult = {
      conc: [],
      floor: [],
      serial: [],
      observedRps: NaN,
      mainThreadPolicy: taskPolicy(),
    };
    const t0 = performance.now();
    const req0 = await requestsServed(api);
    let warmRequests = 0;
    for (let i = 0; i < Number(values.runs); i++) {
      // Both timed fetches find the API's chains of the moment built (see sim-warm.ts).
      warmRequests += await warmChains(streams, floorOpts);
      out.conc.push(await fetchPhase(stack, false));
      warmRequests += await warmChains(streams, floorOpts);
      out.floor.push(await fetchFloor(streams, floorOpts));
      out.serial.push(await fetchPhase(seq, true));
    }
    out.observedRps = ((await requestsServed(api)) - req0 - warmRequests) / ((performance.now() - t0) / 1000);
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await seq.close();
    await stack.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`fetch-child failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
