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

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Epoch ms of an ISO-8601 instant with its offset (`2026-01-07T15:30:00Z`, `…T10:30:00-05:00`,
 * fractions of a second allowed); null for anything else (a date alone, no offset, an impossible date).
 */
export function parseIsoInstant(input: string): number | null {
  const s = input.trim();
  if (!ISO_INSTANT.test(s)) return null;
  const t = Date.parse(s);
  if (!Number.isFinite(t)) return null;
  // Date.parse rolls 2026-02-30 over to March: the calendar part must survive the round trip.
  const offset = /(Z|[+-]\d{2}:\d{2})$/.exec(s)?.[1] ?? 'Z';
  const sign = offset === 'Z' ? 0 : offset.startsWith('-') ? -1 : 1;
  const offMin = offset === 'Z' ? 0 : sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  const local = new Date(t + offMin * 60_000).toISOString();
  return local.slice(0, 16) === s.slice(0, 16) ? t : null;
}
