import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { startProbe, turnBreakdown, worstTurnReport } from '../../bench/probes.js';

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
    // ticks on either side of the loop may add a few ms asleep (seen: 5.5 ms with both cores loaded).
    expect((turn?.cpuMs ?? 0) + (turn?.runQueueMs ?? 0)).toBeGreaterThanOrEqual(50);
    expect(turn?.offCpuMs).toBeLessThan(15);
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
    expect(worstTurnReport(null)).toBeNull();
  });
});
