/**
 * @module The one time unit chain-worker writes to Redis: Unix seconds as a number, fractional to the
 * millisecond (`1764577498.123`). A field in milliseconds says so in its name (`latency_ms`).
 */

/** Unix seconds, fractional to the ms, of `ms` (default: now). */
export function unixSeconds(ms: number = Date.now()): number {
  return Math.round(ms) / 1000;
}

/** Milliseconds of a Unix-seconds value read back from Redis (NaN when it is not a number). */
export function msOfSeconds(sec: number | string | null | undefined): number {
  if (sec === null || sec === undefined || sec === '') return Number.NaN;
  return Number(sec) * 1000;
}
