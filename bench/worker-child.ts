/**
 * @module A worker process for the benchmark: the burst cycle (both symbols, both models) measured in a
 * process of its own, so its peak RSS and event-loop blocks are the worker's alone. Prints one JSON line.
 */
import { parseArgs } from 'node:util';
import { CHILD_OPTIONS } from './child-options.js';
import { tuneHeap } from '../src/lib/heap.js';
import { recordStreams } from './fetch-floor.js';
import { burstCycle, fetchBoth, type BurstRun } from './scenarios.js';
import { warmChains } from './sim-warm.js';
import { BENCH_API_KEY, createStack, STDERR_SCHED_LOG } from './stack.js';
import { lowerHelperThreads } from '../src/lib/thread-priority.js';
import { applyMainThreadSched, taskPolicy } from '../src/lib/main-thread-sched.js';

const { values } = parseArgs({
  options: {
    ...CHILD_OPTIONS,
    /** CHAIN_COMPAT of the worker (the compat scenario runs both). */
    compat: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const stack = await createStack({
    apiUrl: values.api ?? '',
    redisUrl: values.redis ?? '',
    concurrency: Number(values.concurrency),
    rateLimit: Number(values.rate),
    env: {
      ...(values.compat ? { CHAIN_COMPAT: values.compat } : {}),
      // A/B of the model threads: the bench's environment decides, else the default.
      ...(process.env.CHAIN_MODEL_THREADS ? { CHAIN_MODEL_THREADS: process.env.CHAIN_MODEL_THREADS } : {}),
    },
  });
  // The worker's start-up does the same (createRuntime): heap tuning, V8's and libuv's threads lowered.
  tuneHeap(stack.config.heapGrowingPercent);
  const helpers = lowerHelperThreads();
  if (helpers !== null) process.stderr.write(`helper threads keep their priority: ${helpers}\n`);
  await applyMainThreadSched(stack.config.mainThreadSched, STDERR_SCHED_LOG);
  try {
    // Discovery, as a running worker has it cached; and the page streams of the chain, recorded.
    const streams = await recordStreams(stack.provider.http, () => fetchBoth(stack));
    // Each burst finds the API's chains of the moment built, as the fetch floor does (see sim-warm.ts): a
    // remote API serves a snapshot it holds, it does not build it on our cores in the first pages.
    const burst = async (): Promise<BurstRun> => {
      await warmChains(streams, { origin: values.api ?? '', apiKey: BENCH_API_KEY });
      return burstCycle(stack);
    };
    // Warm-up: a production worker has run all day; the first bursts of a fresh process are ~50 % slower
    // (JIT of the hot paths, the threads starting, the heap growing to its working size). V8's compiles on
    // its helper threads went on into the fifth burst (5 Dec: ~195 ms of their CPU per second there with
    // CHAIN_COMPAT=marketswarm, ~55 with none, 10–35 from the sixth on), so `--warm-up` defaults to 6.
    for (let i = 0; i < Number(values['warm-up']); i++) await burst();
    const runs = [];
    for (let i = 0; i < Number(values.runs); i++) runs.push(await burst());
    process.stdout.write(`${JSON.stringify({ runs, mainThreadPolicy: taskPolicy() })}\n`);
  } finally {
    await stack.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`worker-child failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
