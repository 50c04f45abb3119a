import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { constants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  addTallies,
  gcPause,
  longestPauseKind,
  mainGcReport,
  tallyPauses,
  pauseOverlapMs,
  startProbe,
  turnBreakdown,
  worstTurnReport,
  type GcPause,
} from '../../bench/probes.js';

describe('turnBreakdown (the benchmark’s longest turn, split up)', () => {
  it.each([
    // wall ms, CPU ns, run-queue ns → CPU, run queue, off CPU (ms)
    { wall: 30, cpu: 10e6, wait: 12e6, want: [10, 12, 8] },
    { wall: 12, cpu: 11.5e6, wait: 0, want: [11.5, 0, 0.5] },
    { wall: 40.6, cpu: 1.7e6, wait: 30.4e6, want: [1.7, 30.4, 8.5] },
    // Counters read a little after the clock: the rest is never negative.
    { wall: 10, cpu: 6e6, wait: 4.5e6, want: [6, 4.5, 0] },
  ])('$wall ms = CPU $cpu ns + queue $wait ns + the rest', ({ wall, cpu, wait, want }) => {
    const b = turnBreakdown(wall, cpu, wait);
    expect(b.wallMs).toBe(wall);
    expect(b.cpuMs).toBeCloseTo(want[0] as number, 9);
    expect(b.runQueueMs).toBeCloseTo(want[1] as number, 9);
    expect(b.offCpuMs).toBeCloseTo(want[2] as number, 9);
  });

  it.runIf(process.platform === 'linux')('a probe finds a 60 ms busy turn, and its CPU', async () => {
    // schedstat may be missing on some kernels; the probe then reports null, as the benchmark does.
    let readable = true;
    try {
      readFileSync(`/proc/self/task/${process.pid}/schedstat`);
    } catch {
      readable = false;
    }
    const probe = startProbe();
    await new Promise((r) => setTimeout(r, 20));
    // Long enough to be the longest turn even on a loaded machine.
    const until = performance.now() + 60;
    while (performance.now() < until); // the code's own stall
    await new Promise((r) => setTimeout(r, 20));
    const turn = probe.stop().worstTurn;
    if (!readable) return expect(turn).toBeNull();
    expect(turn).not.toBeNull();
    expect(turn?.wallMs).toBeGreaterThanOrEqual(60);
    // Busy on the CPU for 60 ms, unless the machine took the core away meanwhile (then it queued). The
    // ticks on either side of the loop add time asleep, which grows with the machine's load (seen: 5.5 ms
    // with both cores loaded, 17.5 ms during CI's test run): less than the busy part, whatever the load.
    const busy = (turn?.cpuMs ?? 0) + (turn?.runQueueMs ?? 0);
    expect(busy).toBeGreaterThanOrEqual(50);
    expect(turn?.offCpuMs).toBeLessThan(busy);
    // No collection was asked for: whatever V8 did, the pauses fit inside the turn.
    expect(turn?.gcMs).toBeGreaterThanOrEqual(0);
    expect(turn?.gcMs).toBeLessThanOrEqual(turn?.wallMs ?? 0);
  });

  it('a probe counts a forced full collection as major', async () => {
    // A full collection on demand (what `--expose-gc` gives).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const probe = startProbe();
    gc();
    await new Promise((r) => setTimeout(r, 20));
    const tally = probe.stop().gc;
    expect(tally.major).toBeGreaterThanOrEqual(1);
    expect(tally.longestMs).toBeGreaterThan(0);
    expect(tally.pauseMs).toBeGreaterThanOrEqual(tally.longestMs);
  });

  it('a probe sees a peak of RSS that came and went within one turn', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const MiB = 1024 * 1024;
    gc();
    const before = process.memoryUsage.rss();
    const probe = startProbe();
    // 64 MiB touched and freed again before any timer of the probe could run.
    (() => {
      const b = Buffer.alloc(64 * MiB, 1);
      expect(b[b.length - 1]).toBe(1);
    })();
    gc();
    await new Promise((r) => setTimeout(r, 20));
    const peak = probe.stop().peakRssMb * MiB;
    let linux = true;
    try {
      readFileSync('/proc/self/status');
    } catch {
      linux = false;
    }
    if (!linux) return expect(peak).toBeGreaterThan(0);
    // The kernel's high-water mark holds the buffer's pages (a sampler between turns never saw them).
    expect(peak - before).toBeGreaterThanOrEqual(60 * MiB);
    // Reset at the start: not a peak from before the section.
    expect(peak).toBeLessThan(before + 200 * MiB);
  });
});

describe('pauseOverlapMs (the collections inside the longest turn)', () => {
  const pauses: GcPause[] = [
    { start: 10, end: 12, kind: 'minor' },
    { start: 20, end: 26, kind: 'major' },
    { start: 40, end: 41.5, kind: 'minor' },
  ];
  it.each([
    { from: 0, to: 100, want: 9.5 }, // all three
    { from: 11, to: 22, want: 3 }, // the end of one, the start of the next
    { from: 12, to: 20, want: 0 }, // between two: touching is not overlapping
    { from: 21, to: 23, want: 2 }, // inside one
    { from: 41, to: 60, want: 0.5 },
    { from: 50, to: 60, want: 0 },
  ])('[$from, $to] holds $want ms of pauses', ({ from, to, want }) => {
    expect(pauseOverlapMs(pauses, from, to)).toBeCloseTo(want, 9);
  });
  it('no pauses, nothing', () => {
    expect(pauseOverlapMs([], 0, 1e9)).toBe(0);
    expect(longestPauseKind([], 0, 1e9)).toBeUndefined();
  });
  it.each([
    { from: 0, to: 100, want: 'major' },
    { from: 11, to: 13, want: 'minor' },
    { from: 11, to: 21, want: 'major' }, // the longer pause, even where less of it falls inside
    { from: 12, to: 20, want: undefined },
  ])('the longest pause in [$from, $to] is $want', ({ from, to, want }) => {
    expect(longestPauseKind(pauses, from, to)).toBe(want);
  });
  it('tallies them by kind, with their sum and the longest', () => {
    const t = tallyPauses([...pauses, { start: 50, end: 50.25, kind: 'incremental' }]);
    expect(t).toEqual({ major: 1, minor: 2, other: 1, pauseMs: 9.75, longestMs: 6 });
    expect(mainGcReport(t)).toEqual({ major: 1, minor: 2, other: 1, pause_ms: 9.8, longest_ms: 6 });
    expect(tallyPauses([])).toEqual({ major: 0, minor: 0, other: 0, pauseMs: 0, longestMs: 0 });
  });
  it('adds up the cycles of a worker process: counts and sums added, the longest kept', () => {
    const a = { major: 1, minor: 10, other: 2, pauseMs: 30, longestMs: 12 };
    const b = { major: 0, minor: 7, other: 0, pauseMs: 9.5, longestMs: 3 };
    expect(addTallies([a, b])).toEqual({ major: 1, minor: 17, other: 2, pauseMs: 39.5, longestMs: 12 });
    expect(addTallies([])).toEqual({ major: 0, minor: 0, other: 0, pauseMs: 0, longestMs: 0 });
  });
  it('reads a gc entry: its kind from perf_hooks constants, its end from its duration', () => {
    const entry = (kind: number) => ({ startTime: 5, duration: 2.5, detail: { kind, flags: 0 } });
    expect(gcPause(entry(constants.NODE_PERFORMANCE_GC_MINOR))).toEqual({
      start: 5,
      end: 7.5,
      kind: 'minor',
    });
    expect(gcPause(entry(constants.NODE_PERFORMANCE_GC_MAJOR)).kind).toBe('major');
    expect(gcPause(entry(constants.NODE_PERFORMANCE_GC_INCREMENTAL)).kind).toBe('incremental');
  });
});

describe('worstTurnReport', () => {
  it('reports ms to one decimal, and null as null', () => {
    expect(worstTurnReport(turnBreakdown(28.44, 8.46e6, 9.12e6))).toEqual({
      wall_ms: 28.4,
      cpu_ms: 8.5,
      run_queue_ms: 9.1,
      off_cpu_ms: 10.9,
    });
    expect(worstTurnReport({ ...turnBreakdown(20, 12e6, 3e6), gcMs: 7.26, gcKind: 'major' })).toEqual({
      wall_ms: 20,
      cpu_ms: 12,
      run_queue_ms: 3,
      off_cpu_ms: 5,
      gc_ms: 7.3,
      gc_kind: 'major',
    });
    expect(worstTurnReport(null)).toBeNull();
  });
});
