/**
 * @module Measurement probes: peak RSS (sampled) and the longest event-loop block during a section.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface Probe {
  stop(): { peakRssMb: number; maxBlockMs: number };
}

/** Starts sampling RSS every `everyMs` and the event-loop delay histogram. */
export function startProbe(everyMs = 5): Probe {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }, everyMs);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  return {
    stop() {
      clearInterval(timer);
      h.disable();
      const rss = process.memoryUsage.rss();
      if (rss > peak) peak = rss;
      // The histogram records delay beyond the 1 ms resolution timer: the longest stretch the loop was busy.
      return { peakRssMb: peak / 1024 / 1024, maxBlockMs: h.max / 1e6 };
    },
  };
}
