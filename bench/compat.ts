/**
 * @module The compat scenario: the burst cycle (fetch → both symbols written → every model and output
 * published) with `CHAIN_COMPAT=none` and `marketswarm` side by side, in alternating worker processes of
 * their own, and the longest Redis commands meanwhile from the bench server's SLOWLOG (the bench's own
 * FLUSHALL between cycles excluded: it is not the worker's).
 */
import type { Cluster, Redis } from 'ioredis';
import type { BurstRun } from './scenarios.js';

export const COMPAT_MODES = ['none', 'marketswarm'] as const;
export type CompatMode = (typeof COMPAT_MODES)[number];

/** Commands the bench itself sends to reset or inspect Redis: not the worker's. */
const BENCH_COMMANDS = new Set(['flushall', 'flushdb', 'slowlog', 'config', 'info', 'memory']);

export interface SlowEntry {
  us: number;
  /** The command and its first arguments as SLOWLOG keeps them (long arguments cut by Redis). */
  command: string;
}

export interface SlowlogSummary {
  /** `slowlog-log-slower-than` during the runs (µs): every command at least this long is in the log. */
  threshold_us: number;
  entries: number;
  longest: SlowEntry | null;
  /** Commands of 5 ms or more (the target is none). */
  over_5ms: number;
  /** The longest entry of each command and key family (`SET massive:chain:latest:…`), longest first. */
  by_family: { family: string; us: number; count: number }[];
}

/** `SET massive:chain:snapshot:SPX:20261207:C5115000` → `SET massive:chain:snapshot`. */
export function commandFamily(args: readonly string[]): string {
  const name = (args[0] ?? '').toUpperCase();
  const key = args[1] ?? '';
  return `${name} ${key.split(':').slice(0, 3).join(':')}`.trim();
}

function mergeFamilies(lists: readonly SlowlogSummary['by_family'][]): SlowlogSummary['by_family'] {
  const m = new Map<string, { us: number; count: number }>();
  for (const f of lists.flat()) {
    const g = m.get(f.family) ?? { us: 0, count: 0 };
    m.set(f.family, { us: Math.max(g.us, f.us), count: g.count + f.count });
  }
  return [...m].map(([family, f]) => ({ family, ...f })).sort((a, b) => b.us - a.us);
}

function families(entries: readonly (SlowEntry & { family: string })[]): SlowlogSummary['by_family'] {
  const m = new Map<string, { us: number; count: number }>();
  for (const e of entries) {
    const f = m.get(e.family) ?? { us: 0, count: 0 };
    f.us = Math.max(f.us, e.us);
    f.count++;
    m.set(e.family, f);
  }
  return [...m].map(([family, f]) => ({ family, ...f })).sort((a, b) => b.us - a.us);
}

export interface CompatRuns {
  runs: Record<CompatMode, BurstRun[]>;
  /** The same runs by round: the two processes of a round ran next to each other. */
  rounds: Record<CompatMode, BurstRun[]>[];
  slowlog: Record<CompatMode, SlowlogSummary>;
}

async function slowlogSince(redis: Redis | Cluster, threshold: number): Promise<SlowlogSummary> {
  const raw = (await redis.call('SLOWLOG', 'GET', '100000')) as unknown[][];
  const entries: (SlowEntry & { family: string })[] = [];
  for (const e of raw) {
    const us = Number(e[2]);
    const args = (e[3] as unknown[]).map(String);
    if (BENCH_COMMANDS.has((args[0] ?? '').toLowerCase())) continue;
    entries.push({ us, command: args.slice(0, 2).join(' ').slice(0, 120), family: commandFamily(args) });
  }
  entries.sort((a, b) => b.us - a.us);
  return {
    threshold_us: threshold,
    entries: entries.length,
    longest: entries[0] ? { us: entries[0].us, command: entries[0].command } : null,
    over_5ms: entries.filter((e) => e.us >= 5000).length,
    by_family: families(entries),
  };
}

/** The modes in the order round `i` runs them: alternating, so the machine's drift falls on both alike. */
export function roundOrder(i: number): readonly CompatMode[] {
  return i % 2 === 0 ? COMPAT_MODES : [...COMPAT_MODES].reverse();
}

/**
 * `rounds` × (one worker process per mode, `runs` burst cycles each, after its warm-up), modes alternating
 * so the machine's load drifts over both alike. `redis` is the bench's own server (its SLOWLOG is set here).
 */
export async function compatRuns(opts: {
  redis: Redis | Cluster;
  rounds: number;
  runs: number;
  slowlogUs: number;
  worker: (mode: CompatMode, runs: number) => Promise<BurstRun[]>;
}): Promise<CompatRuns> {
  const { redis } = opts;
  await redis.call('CONFIG', 'SET', 'slowlog-log-slower-than', String(opts.slowlogUs));
  await redis.call('CONFIG', 'SET', 'slowlog-max-len', '100000');
  const runs: Record<CompatMode, BurstRun[]> = { none: [], marketswarm: [] };
  const rounds: Record<CompatMode, BurstRun[]>[] = [];
  const sums: Record<CompatMode, SlowlogSummary[]> = { none: [], marketswarm: [] };
  for (let i = 0; i < opts.rounds; i++) {
    const round: Record<CompatMode, BurstRun[]> = { none: [], marketswarm: [] };
    for (const mode of roundOrder(i)) {
      await redis.call('SLOWLOG', 'RESET');
      round[mode] = await opts.worker(mode, opts.runs);
      runs[mode].push(...round[mode]);
      sums[mode].push(await slowlogSince(redis, opts.slowlogUs));
    }
    rounds.push(round);
  }
  const merge = (xs: SlowlogSummary[]): SlowlogSummary => ({
    threshold_us: opts.slowlogUs,
    entries: xs.reduce((n, x) => n + x.entries, 0),
    longest: xs
      .map((x) => x.longest)
      .reduce<SlowEntry | null>((a, b) => (b && (!a || b.us > a.us) ? b : a), null),
    over_5ms: xs.reduce((n, x) => n + x.over_5ms, 0),
    by_family: mergeFamilies(xs.map((x) => x.by_family)),
  });
  return { runs, rounds, slowlog: { none: merge(sums.none), marketswarm: merge(sums.marketswarm) } };
}
