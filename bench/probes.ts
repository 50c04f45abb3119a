/**
 * @module Measurement probes: peak RSS (sampled) and the longest event-loop block during a section, as
 * wall time and as the main thread's own CPU time.
 *
 * Why both: on a loaded machine the wall-clock block includes the time the OS kept the thread off the CPU
 * (another process ran), which no code change can remove. The CPU figure is the work the main thread did
 * between two turns of the loop, read from Linux's per-thread scheduler counters
 * (`/proc/self/task/<tid>/schedstat`: ns on the CPU, ns waiting for it); it is what a stall costs on an
 * idle machine. Elsewhere it is reported as null.
 */
import { openSync, readSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
}

export function worstTurnReport(t: TurnBreakdown | null): WorstTurn | null {
  return t
    ? {
        wall_ms: round(t.wallMs),
        cpu_ms: round(t.cpuMs),
        run_queue_ms: round(t.runQueueMs),
        off_cpu_ms: round(t.offCpuMs),
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

/** Starts sampling RSS every `everyMs`, the event-loop delay histogram, and the main thread's CPU per turn. */
export function startProbe(everyMs = 5): Probe {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }, everyMs);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
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
          worst = turnBreakdown(at - lastAt, now[0] - last[0], now[1] - last[1]);
        last = now;
        lastAt = at;
      }, 1)
    : undefined;
  return {
    stop() {
      clearInterval(timer);
      if (tick) clearInterval(tick);
      h.disable();
      const rss = process.memoryUsage.rss();
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
      };
    },
  };
}
