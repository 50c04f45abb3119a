/**
 * @module The benchmark's command line: its options with their defaults and help, parsed and checked in
 * one place, so a mistyped option or value ends in one line naming it (and `--help` in the list), never
 * in a stack trace.
 */
import { parseArgs } from 'node:util';

export const SCENARIOS = ['burst', 'write', 'fetch', 'build', 'memory', 'growth', 'live', 'compat'] as const;
export type Scenario = (typeof SCENARIOS)[number];

interface StringOption {
  type: 'string';
  default: string;
  help: string;
}
interface BooleanOption {
  type: 'boolean';
  default: boolean;
  help: string;
}

const OPTIONS = {
  json: { type: 'boolean', default: false, help: 'print the results as one JSON document on stdout' },
  help: { type: 'boolean', default: false, help: 'print this list and exit' },
  only: {
    type: 'string',
    default: SCENARIOS.join(','),
    help: 'comma-separated subset of the scenarios (development); default all',
  },
  runs: { type: 'string', default: '5', help: 'measured burst cycles per scenario' },
  'warm-up': {
    type: 'string',
    default: '6',
    help: 'burst cycles each worker process runs and discards before the measured ones',
  },
  'latency-ms': { type: 'string', default: '40', help: "the local API's latency per request" },
  concurrency: { type: 'string', default: '10', help: 'pages in flight (CHAIN_FETCH_CONCURRENCY)' },
  rate: { type: 'string', default: '250', help: 'requests per second allowed (CHAIN_RATE_LIMIT_RPS)' },
  growth: {
    type: 'string',
    default: '2000,5000,10000,20000,40000',
    help: 'chain sizes of the growth scenario',
  },
  'live-rates': {
    type: 'string',
    default: '5000,20000',
    help: 'quote messages per second of the live scenario, one worker run each',
  },
  'live-seconds': { type: 'string', default: '20', help: 'measured seconds per live run' },
  'chain-compat': {
    type: 'string',
    default: 'none',
    help: 'CHAIN_COMPAT of the worker measured against the targets (none or marketswarm)',
  },
  'compat-rounds': {
    type: 'string',
    default: '6',
    help: 'compat scenario: alternating rounds of one worker process per CHAIN_COMPAT mode',
  },
  'compat-runs': { type: 'string', default: '3', help: 'compat scenario: measured burst cycles per round' },
  'slowlog-us': {
    type: 'string',
    default: '1000',
    help: 'SLOWLOG threshold (µs) during the compat scenario',
  },
  'sim-nice': {
    type: 'string',
    default: '10',
    help: 'nice value of the local API in the growth, live and compat scenarios (0–19)',
  },
  'sim-nice-fetch': {
    type: 'string',
    default: '0',
    help: 'nice value of the local API in the burst, write and fetch scenarios (0–19)',
  },
  'main-thread-sched': {
    type: 'string',
    default: 'fifo',
    help: "the worker processes' CHAIN_MAIN_THREAD_SCHED: fifo (their main thread at real-time priority 1), rr or other",
  },
  'redis-sched-compat': {
    type: 'string',
    default: 'fifo',
    help: "the bench's redis-server during the compat scenario: fifo (real-time priority) or other",
  },
} satisfies Record<string, StringOption | BooleanOption>;

export interface BenchArgs {
  json: boolean;
  help: boolean;
  only: ReadonlySet<Scenario>;
  runs: number;
  /** Burst cycles each worker process discards first (bench/worker-child.ts). */
  warmUp: number;
  latencyMs: number;
  concurrency: number;
  rate: number;
  growth: number[];
  liveRates: number[];
  liveSeconds: number;
  chainCompat: 'none' | 'marketswarm';
  compatRounds: number;
  compatRuns: number;
  slowlogUs: number;
  simNice: number;
  simNiceFetch: number;
  redisSchedCompat: 'fifo' | 'other';
  /** The worker processes' CHAIN_MAIN_THREAD_SCHED. */
  mainThreadSched: 'fifo' | 'rr' | 'other';
}

/** A command line the benchmark cannot run: its message names the option. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function integer(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(
      `--${name}: expected an integer ${max === Number.MAX_SAFE_INTEGER ? `of at least ${String(min)}` : `from ${String(min)} to ${String(max)}`}, got ${JSON.stringify(text)}`,
    );
  return n;
}

function integers(name: string, text: string, min: number): number[] {
  const parts = text.split(',').map((p) => p.trim());
  return parts.filter((p) => p !== '').map((p) => integer(name, p, min));
}

function oneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text))
    throw new UsageError(`--${name}: expected ${allowed.join(' or ')}, got ${JSON.stringify(text)}`);
  return text as T;
}

/** Parses and checks the benchmark's arguments (without the interpreter and script). */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), { cause: err });
  }
  const str = (k: keyof typeof OPTIONS): string => {
    const v = values[k];
    return typeof v === 'string' ? v : String(OPTIONS[k].default);
  };
  const only = new Set<Scenario>();
  for (const o of str('only')
    .split(',')
    .map((x) => x.trim()))
    only.add(oneOf('only', o, SCENARIOS));
  return {
    json: values.json === true,
    help: values.help === true,
    only,
    runs: integer('runs', str('runs'), 1),
    warmUp: integer('warm-up', str('warm-up'), 0),
    latencyMs: integer('latency-ms', str('latency-ms'), 0),
    concurrency: integer('concurrency', str('concurrency'), 1),
    rate: integer('rate', str('rate'), 1),
    growth: integers('growth', str('growth'), 1),
    liveRates: integers('live-rates', str('live-rates'), 1),
    liveSeconds: integer('live-seconds', str('live-seconds'), 1),
    chainCompat: oneOf('chain-compat', str('chain-compat'), ['none', 'marketswarm'] as const),
    compatRounds: integer('compat-rounds', str('compat-rounds'), 1),
    compatRuns: integer('compat-runs', str('compat-runs'), 1),
    slowlogUs: integer('slowlog-us', str('slowlog-us'), 0),
    simNice: integer('sim-nice', str('sim-nice'), 0, 19),
    simNiceFetch: integer('sim-nice-fetch', str('sim-nice-fetch'), 0, 19),
    mainThreadSched: oneOf('main-thread-sched', str('main-thread-sched'), ['fifo', 'rr', 'other'] as const),
    redisSchedCompat: oneOf('redis-sched-compat', str('redis-sched-compat'), ['fifo', 'other'] as const),
  };
}

/** The option list `--help` prints. */
export function benchUsage(): string {
  const lines = ['usage: npm run bench -- [options]', '', 'options:'];
  for (const [name, o] of Object.entries(OPTIONS)) {
    const flag = o.type === 'string' ? `--${name} <value>` : `--${name}`;
    const def = o.type === 'string' ? ` (default ${o.default})` : '';
    lines.push(`  ${flag.padEnd(30)} ${o.help}${def}`);
  }
  lines.push('', `scenarios: ${SCENARIOS.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
