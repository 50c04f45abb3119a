/**
 * @module Errors of the Massive client. Messages carry the status, vendor request id and vendor message,
 * never the API key or a URL with credentials: a vendor message (or a proxy) may echo the `Authorization`
 * header, so the HTTP layer scrubs every error it throws with {@link secretScrubber} / {@link scrubError}.
 */

/** 401/403: not retried; the worker shuts down in a controlled way. */
export class MassiveAuthError extends Error {
  override readonly name = 'MassiveAuthError';
  constructor(
    readonly status: number,
    readonly requestId: string | undefined,
    vendorMessage: string | undefined,
  ) {
    super(
      `Massive API authentication failed (HTTP ${status}${requestId ? `, request ${requestId}` : ''}): ${vendorMessage ?? 'no message'}`,
    );
  }
}

/** A non-2xx answer after retries (or a non-retryable 4xx). */
export class MassiveHttpError extends Error {
  override readonly name = 'MassiveHttpError';
  constructor(
    readonly status: number,
    readonly requestId: string | undefined,
    vendorMessage: string | undefined,
    readonly path: string,
  ) {
    super(
      `Massive API HTTP ${status} on ${path}${requestId ? ` (request ${requestId})` : ''}: ${vendorMessage ?? 'no message'}`,
    );
  }
}

/** A 200 whose body is not the JSON the endpoint promises (after retries). */
export class MalformedPageError extends Error {
  override readonly name = 'MalformedPageError';
  constructor(
    readonly path: string,
    cause?: unknown,
  ) {
    super(`Massive API returned a malformed page on ${path}`, { cause });
  }
}

/** Timeout, reset or refused connection (after retries). */
export class MassiveNetworkError extends Error {
  override readonly name = 'MassiveNetworkError';
  constructor(
    readonly path: string,
    readonly kind: 'timeout' | 'connection',
    cause?: unknown,
  ) {
    super(`Massive API ${kind} error on ${path}`, { cause });
  }
}

/** Every stream of a snapshot failed: nothing usable was fetched. */
export class FetchFailedError extends Error {
  override readonly name = 'FetchFailedError';
  constructor(
    readonly symbol: string,
    readonly reasons: string[],
  ) {
    super(`Snapshot of ${symbol} failed: ${reasons.slice(0, 3).join('; ')}`);
  }
}

/**
 * The API does not know the underlying: discovery found no expiration at all and no source (a contract,
 * the indices endpoint) gave an underlying value. A typo, not off-hours: an empty chain on a known
 * underlying still has its index value.
 */
export class UnknownSymbolError extends Error {
  override readonly name = 'UnknownSymbolError';
  constructor(
    readonly symbol: string,
    /** The indices endpoint's per-ticker error (`NOT_FOUND`, `NOT_ENTITLED`), when it gave one. */
    readonly vendorError?: string,
  ) {
    super(
      `Unknown symbol ${symbol}: the API lists no option expirations and no underlying value for it${vendorError ? ` (indices: ${vendorError})` : ''}`,
    );
  }
}

/** Short kind label for metrics and analytics. */
export function errorKind(err: unknown): string {
  if (err instanceof MassiveAuthError) return 'auth';
  if (err instanceof MassiveHttpError)
    return err.status === 429 ? 'rate_limited' : err.status >= 500 ? 'server' : 'client';
  if (err instanceof MalformedPageError) return 'malformed';
  if (err instanceof MassiveNetworkError) return err.kind;
  if (err instanceof FetchFailedError) return 'fetch_failed';
  if (err instanceof UnknownSymbolError) return 'unknown_symbol';
  return 'internal';
}

/** Removes a secret from a piece of text. */
export type Scrubber = (text: string) => string;

const MARK = '[redacted]';

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * A scrubber for `secret` as an echoing server may write it back: raw, as `Bearer <secret>`, and with any
 * of its characters percent-encoded (either case), JSON/JS-escaped (`\u00XX`, `\xXX`) or, for a space, `+`.
 * Matching ignores case (scrubbing a little too much is harmless). Secrets under 4 characters are left
 * alone (they would match ordinary text).
 */
export function secretScrubber(secret: string | undefined): Scrubber {
  if (secret === undefined || secret.length < 4) return (text) => text;
  const chars = [...secret].map((c) => {
    const code = c.codePointAt(0) ?? 0;
    if (code >= 0x80) return escapeRegExp(c);
    const hex = code.toString(16).padStart(2, '0');
    const alts = [escapeRegExp(c), `%${hex}`, `\\\\u00${hex}`, `\\\\x${hex}`];
    if (c === ' ') alts.push('\\+');
    return `(?:${alts.join('|')})`;
  });
  const re = new RegExp(`(?:Bearer(?:\\s|%20|\\+)+)?${chars.join('')}`, 'gi');
  return (text) => text.replace(re, MARK);
}

/**
 * Scrubs an error in place and returns it: its message, stack and every own string property, then its
 * `cause` chain and an AggregateError's `errors` (an undici error may quote a URL or a header).
 */
export function scrubError<T>(err: T, scrub: Scrubber, depth = 0): T {
  if (!(err instanceof Error) || depth > 8) return err;
  const record = err as unknown as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(err)) {
    const value = record[key];
    if (typeof value !== 'string') continue;
    const clean = scrub(value);
    if (clean === value) continue;
    try {
      record[key] = clean;
    } catch {
      // a read-only property: leave it (message and stack are always writable)
    }
  }
  if (err.cause instanceof Error) scrubError(err.cause, scrub, depth + 1);
  else if (typeof err.cause === 'string') err.cause = scrub(err.cause);
  if (err instanceof AggregateError) for (const e of err.errors) scrubError(e, scrub, depth + 1);
  return err;
}
