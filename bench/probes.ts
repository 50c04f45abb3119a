/**
 * @module Measurement probes: peak RSS and the longest event-loop block during a section, as wall time
 * and as the main thread's own CPU time.
 *
 * Peak RSS is the kernel's own high-water mark (`VmHWM` in `/proc/self/status`), reset when the section
 * starts (`5` written to `/proc/self/clear_refs`): every peak, however short, and no timer in the measured
 * process. Where that cannot be done (not Linux) RSS is sampled every few ms instead. The sampler it
 * replaced (5 ms) read the same peaks within 0.3 MB (20 bursts, 5 Dec) and cost the measured main thread
 * ~14 ms of CPU a second.
 *
 * Why both: on a loaded machine the wall-clock block includes the time the OS kept the thread off the CPU
 * (another process ran), which no code change can remove. The CPU figure is the work the main thread did
 * between two turns of the loop, read from Linux's per-thread scheduler counters
 * (`/proc/self/task/<tid>/schedstat`: ns on the CPU, ns waiting for it); it is what a stall costs on an
 * idle machine. Elsewhere it is reported as null.
 *
 * And the main isolate's collections (`gc` performance entries): how many, how long, and how much of the
 * longest turn they held. A pause is stretched like any turn by the waits above; the count says how often
 * the cycle makes the main isolate collect.
 */
import { openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { round } from './stats.js';

export interface ProbeResult {
  peakRssMb: number;
  /** Longest event-loop delay, wall clock (ms). */
  maxBlockMs: number;
  /** Most main-thread CPU spent between two turns of the loop (ms); null where it cannot be read. */
  maxBlockCpuMs: number | null;
  /** Time the main thread waited for a CPU during the section (ms): how loaded the machine was. */
  runQueueMs: number | null;
  /**
   * Minor page faults of the whole process (every thread) during the section: pages touched for the first
   * time since they were mapped. On a virtual machine whose host backs guest memory lazily each costs far
   * more than on bare metal (measured here: ~14 µs of CPU per 4 KiB page, ~3.5 ms per MiB).
   */
  minorFaults: number;
  /** The longest gap between two ticks of the 1 ms timer, split up (null where schedstat cannot be read). */
  worstTurn: TurnBreakdown | null;
  /** The main isolate's collections during the section. */
  gc: GcTally;
}

/** The main isolate's collection pauses over a section: how many of each kind, their sum and the longest. */
export interface GcTally {
  major: number;
  minor: number;
  /** Incremental-marking steps and weak-callback passes the main thread ran. */
  other: number;
  pauseMs: number;
  longestMs: number;
}

/** Counts `pauses` by kind, with their sum and the longest. */
export function tallyPauses(pauses: readonly GcPause[]): GcTally {
  const t: GcTally = { major: 0, minor: 0, other: 0, pauseMs: 0, longestMs: 0 };
  for (const p of pauses) {
    if (p.kind === 'major') t.major++;
    else if (p.kind === 'minor') t.minor++;
    else t.other++;
    const ms = p.end - p.start;
    t.pauseMs += ms;
    if (ms > t.longestMs) t.longestMs = ms;
  }
  return t;
}

/** Tallies added up (the cycles of one worker process). */
export function addTallies(tallies: readonly GcTally[]): GcTally {
  const t: GcTally = { major: 0, minor: 0, other: 0, pauseMs: 0, longestMs: 0 };
  for (const x of tallies) {
    t.major += x.major;
    t.minor += x.minor;
    t.other += x.other;
    t.pauseMs += x.pauseMs;
    t.longestMs = Math.max(t.longestMs, x.longestMs);
  }
  return t;
}

/** A {@link GcTally} as `--json` reports it (`main_gc`: ms to one decimal). */
export interface MainGc {
  major: number;
  minor: number;
  other: number;
  pause_ms: number;
  longest_ms: number;
}

export function mainGcReport(t: GcTally): MainGc {
  return {
    major: t.major,
    minor: t.minor,
    other: t.other,
    pause_ms: round(t.pauseMs),
    longest_ms: round(t.longestMs),
  };
}

/**
 * One turn of the event loop from the outside: the wall-clock gap between two ticks, the main thread's CPU
 * in it, the time it was runnable but waiting for a core (the run queue), and the rest, `offCpuMs`: the
 * thread was off the CPU and not runnable (waiting on a lock, for V8's helper threads to finish their part
 * of a collection, or in a blocking call). Only the CPU part is the code's own; the run-queue part is the
 * machine's load; the off-CPU part is contention inside the process.
 */
export interface TurnBreakdown {
  wallMs: number;
  cpuMs: number;
  runQueueMs: number;
  offCpuMs: number;
  /**
   * The main isolate's garbage-collection pauses inside the turn (ms, from `gc` performance entries; they
   * overlap the other parts: a pause is CPU, or off the CPU while V8's helpers finish). Set by the probe.
   */
  gcMs?: number;
  /** The kind of the longest of those pauses (`major`: a full collection's atomic pause, `minor`: a scavenge). */
  gcKind?: GcKind;
  /** When the turn started and ended (`performance.now()`), to attribute the pauses. */
  startAt?: number;
  endAt?: number;
}

export type GcKind = 'major' | 'minor' | 'incremental' | 'weakcb';

/** A garbage-collection pause of the main isolate: start and end (`performance.now()`, ms), and its kind. */
export interface GcPause {
  start: number;
  end: number;
  kind: GcKind;
}

const GC_KINDS: ReadonlyMap<number, GcKind> = new Map([
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/** What a `gc` performance entry holds: Node puts the collection's kind in `detail.kind`. */
export interface GcEntry {
  startTime: number;
  duration: number;
  detail?: unknown;
}

/** A `gc` performance entry as a pause (its `detail.kind` is one of perf_hooks' GC constants). */
export function gcPause(e: GcEntry): GcPause {
  const detail = e.detail;
  const code = typeof detail === 'object' && detail !== null && 'kind' in detail ? detail.kind : undefined;
  const kind = (typeof code === 'number' ? GC_KINDS.get(code) : undefined) ?? 'major';
  return { start: e.startTime, end: e.startTime + e.duration, kind };
}

/** The kind of the longest pause overlapping `[from, to]`, if any. */
export function longestPauseKind(pauses: readonly GcPause[], from: number, to: number): GcKind | undefined {
  let best: GcPause | undefined;
  for (const p of pauses)
    if (p.end > from && p.start < to && (!best || p.end - p.start > best.end - best.start)) best = p;
  return best?.kind;
}

/** How much of `[from, to]` the pauses cover (ms). Pauses do not overlap each other. */
export function pauseOverlapMs(pauses: readonly GcPause[], from: number, to: number): number {
  let ms = 0;
  for (const p of pauses) {
    const a = Math.max(from, p.start);
    const b = Math.min(to, p.end);
    if (b > a) ms += b - a;
  }
  return ms;
}

/** The breakdown of a gap of `wallMs` in which the thread ran `cpuNs` and waited `waitNs` for a core. */
export function turnBreakdown(wallMs: number, cpuNs: number, waitNs: number): TurnBreakdown {
  const cpuMs = cpuNs / 1e6;
  const runQueueMs = waitNs / 1e6;
  // The counters and the clock are read at slightly different instants: never a negative rest.
  return { wallMs, cpuMs, runQueueMs, offCpuMs: Math.max(0, wallMs - cpuMs - runQueueMs) };
}

/** A {@link TurnBreakdown} as `--json` reports it (ms, one decimal). */
export interface WorstTurn {
  wall_ms: number;
  cpu_ms: number;
  run_queue_ms: number;
  off_cpu_ms: number;
  /** The main isolate's collection pauses inside the turn (overlapping the parts above); absent if unknown. */
  gc_ms?: number;
  /** The kind of the longest of them (`major`, `minor`, …); absent when none fell in the turn. */
  gc_kind?: GcKind;
}

export function worstTurnReport(t: TurnBreakdown | null): WorstTurn | null {
  return t
    ? {
        wall_ms: round(t.wallMs),
        cpu_ms: round(t.cpuMs),
        run_queue_ms: round(t.runQueueMs),
        off_cpu_ms: round(t.offCpuMs),
        ...(t.gcMs === undefined ? {} : { gc_ms: round(t.gcMs) }),
        ...(t.gcKind === undefined ? {} : { gc_kind: t.gcKind }),
      }
    : null;
}

export interface Probe {
  stop(): ProbeResult;
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

/** The file stays open and is re-read in place: the 1 ms tick costs one read, no open/close or allocation. */
let schedFd: number | null | undefined;
const schedBuf = Buffer.alloc(128);

/** [ns on the CPU, ns waiting for it] of the main thread, or null. */
function schedstat(): [number, number] | null {
  try {
    schedFd ??= openSync(SCHEDSTAT, 'r');
    const n = readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
    const [run, wait] = schedBuf.toString('latin1', 0, n).split(' ');
    return [Number(run), Number(wait)];
  } catch {
    schedFd = null;
    return null;
  }
}

/** Resets the kernel's high-water mark of this process's RSS; false where it cannot. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The kernel's high-water mark of this process's RSS since the last reset (bytes), or null. */
function kernelPeakRss(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Starts the peak RSS (the kernel's, else sampled every `everyMs`), the event-loop delay histogram, and
 * the main thread's CPU per turn.
 */
export function startProbe(everyMs = 5): Probe {
  let peak = process.memoryUsage.rss();
  const timer = resetPeakRss()
    ? undefined
    : setInterval(() => {
        const rss = process.memoryUsage.rss();
        if (rss > peak) peak = rss;
      }, everyMs);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // The main isolate's pauses, delivered after the fact: matched to the worst turn when the probe stops.
  const pauses: GcPause[] = [];
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push(gcPause(e));
  });
  gcs.observe({ entryTypes: ['gc'] });
  const faults0 = process.resourceUsage().minorPageFault;
  const first = schedstat();
  let last = first;
  let lastAt = performance.now();
  let maxCpuNs = 0;
  let worst: TurnBreakdown | null = null;
  // A 1 ms tick: the CPU the main thread used between two ticks is the work done in between.
  const tick = first
    ? setInterval(() => {
        const now = schedstat();
        const at = performance.now();
        if (!now || !last) return;
        maxCpuNs = Math.max(maxCpuNs, now[0] - last[0]);
        if (!worst || at - lastAt > worst.wallMs)
          worst = {
            ...turnBreakdown(at - lastAt, now[0] - last[0], now[1] - last[1]),
            startAt: lastAt,
            endAt: at,
          };
        last = now;
        lastAt = at;
      }, 1)
    : undefined;
  return {
    stop() {
      if (timer) clearInterval(timer);
      if (tick) clearInterval(tick);
      h.disable();
      for (const e of gcs.takeRecords()) pauses.push(gcPause(e));
      gcs.disconnect();
      const w: TurnBreakdown | null = worst;
      if (w?.startAt !== undefined && w.endAt !== undefined) {
        w.gcMs = pauseOverlapMs(pauses, w.startAt, w.endAt);
        w.gcKind = longestPauseKind(pauses, w.startAt, w.endAt);
      }
      const rss = (timer ? null : kernelPeakRss()) ?? process.memoryUsage.rss();
      if (rss > peak) peak = rss;
      const end = schedstat();
      // The histogram records delay beyond the 1 ms resolution timer: the longest stretch the loop was busy.
      return {
        peakRssMb: peak / 1024 / 1024,
        maxBlockMs: h.max / 1e6,
        maxBlockCpuMs: first ? maxCpuNs / 1e6 : null,
        runQueueMs: first && end ? (end[1] - first[1]) / 1e6 : null,
        minorFaults: process.resourceUsage().minorPageFault - faults0,
        worstTurn: worst,
        gc: tallyPauses(pauses),
      };
    },
  };
}
