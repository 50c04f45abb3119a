/**
 * @module Connection errors are logged, not dropped, and at a bounded rate: a Redis that is down makes
 * ioredis emit an `error` on every reconnect attempt (several a second), which would flood the log.
 */

/** Where a warning goes (a pino logger fits). */
export interface WarnSink {
  warn(obj: object, msg: string): void;
}

/** At most one line per `windowMs` per source; the line says how many were left out since the last. */
export const ERROR_LOG_WINDOW_MS = 10_000;

/**
 * Returns an `error` listener that logs `source`'s errors through `sink` at most once per `windowMs`.
 *
 * @example
 * client.on('error', rateLimitedErrorLog(logger, 'market bus'));
 */
export function rateLimitedErrorLog(
  sink: WarnSink | undefined,
  source: string,
  windowMs = ERROR_LOG_WINDOW_MS,
  now: () => number = Date.now,
): (err: unknown) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (err: unknown) => {
    if (!sink) return;
    const t = now();
    if (t - last < windowMs) {
      suppressed++;
      return;
    }
    last = t;
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as NodeJS.ErrnoException).code;
    sink.warn({ source, err: e.message, ...(code ? { code } : {}), suppressed }, 'Redis connection error');
    suppressed = 0;
  };
}
