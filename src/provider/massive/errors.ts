/**
 * @module Errors of the Massive client. Messages carry the status, vendor request id and vendor message,
 * never the API key or a URL with credentials.
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

/** Short kind label for metrics and analytics. */
export function errorKind(err: unknown): string {
  if (err instanceof MassiveAuthError) return 'auth';
  if (err instanceof MassiveHttpError)
    return err.status === 429 ? 'rate_limited' : err.status >= 500 ? 'server' : 'client';
  if (err instanceof MalformedPageError) return 'malformed';
  if (err instanceof MassiveNetworkError) return err.kind;
  if (err instanceof FetchFailedError) return 'fetch_failed';
  return 'internal';
}
