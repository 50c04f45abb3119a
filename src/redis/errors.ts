/**
 * @module Redis errors by type: the code of an error reply (its first word: `MOVED`, `ASK`, `CLUSTERDOWN`,
 * `READONLY`, `OOM`…), connection failures, and the kind label a failed cycle is counted under. Pure: no
 * message is searched with a pattern; a reply's code is its first word, as the protocol defines it.
 */
import { ReplyError } from 'ioredis';
import { errorKind } from '../provider/massive/errors.js';

/** Error-reply codes that mean "the cluster is changing: refresh the slot map and ask again". */
export const REDIRECT_CODES = ['MOVED', 'ASK'] as const;
/** Error-reply codes of a passing state: retry after a short wait. */
export const TRANSIENT_CODES = ['TRYAGAIN', 'CLUSTERDOWN', 'LOADING', 'MASTERDOWN', 'BUSY'] as const;
/**
 * Every error-reply code that is Redis refusing, redirecting or unavailable. Other codes (`ERR`,
 * `WRONGTYPE`, …) answer a malformed command: a bug of ours, counted `internal`.
 */
export const REDIS_REPLY_CODES = new Set<string>([
  ...REDIRECT_CODES,
  ...TRANSIENT_CODES,
  'READONLY',
  'OOM',
  'NOAUTH',
  'WRONGPASS',
  'NOPERM',
  'MISCONF',
  'NOREPLICAS',
  'NOSCRIPT',
  'EXECABORT',
  'CROSSSLOT',
]);

/** Names of ioredis's own error classes for a lost or unreachable server. */
const CONNECTION_ERROR_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError', 'AbortError']);
/** Node socket error codes. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/**
 * ioredis rejects with plain `Error`s carrying these fixed messages when a connection is gone or a
 * cluster client cannot route (compared whole, not searched).
 */
const CLIENT_CONNECTION_MESSAGES = new Set([
  'Connection is closed.',
  'Cluster is disconnected.',
  'Cluster is disconnecting.',
  'Node is disconnected',
  'None of startup nodes is available',
  'Failed to refresh slots cache.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Cluster isn't ready and enableOfflineQueue options is false",
  'Command timed out',
  'connect ETIMEDOUT',
  'All keys in the pipeline should belong to the same slots allocation group',
]);
/** ioredis gives up after `maxRedirections`; the message then starts with this. */
const TOO_MANY_REDIRECTIONS = 'Too many Cluster redirections.';

function isReplyError(err: Error): boolean {
  if (err.name === 'ReplyError') return true;
  return err instanceof (ReplyError as typeof Error);
}

/** The error-reply code (first word, upper case) of a Redis error reply; null for anything else. */
export function replyCode(err: unknown): string | null {
  if (!(err instanceof Error) || !isReplyError(err)) return null;
  const first = err.message.split(' ', 1)[0] ?? '';
  return /^[A-Z]+$/.test(first) ? first : null;
}

/** A lost, refused or unreachable connection (to a single server, a cluster node or a bulk socket). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof RedisConnectionError) return true;
  if (CONNECTION_ERROR_NAMES.has(err.name)) return true;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  return CLIENT_CONNECTION_MESSAGES.has(err.message) || err.message.startsWith(TOO_MANY_REDIRECTIONS);
}

/** True for any error that comes from Redis or the connection to it (walks `cause`). */
export function isRedisError(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false;
  if (err instanceof RedisLayerError) return true;
  const code = replyCode(err);
  if (code !== null) return REDIS_REPLY_CODES.has(code);
  if (isConnectionError(err)) return true;
  return isRedisError(err.cause, depth + 1);
}

/**
 * Worth asking again after refreshing the slot map or a short wait: a redirect, a passing cluster state,
 * or a lost connection. Refusals (OOM, READONLY, NOAUTH) and bugs are not.
 */
export function isRetryableRedisError(err: unknown): boolean {
  const code = replyCode(err);
  if (code !== null)
    return (
      (REDIRECT_CODES as readonly string[]).includes(code) ||
      (TRANSIENT_CODES as readonly string[]).includes(code)
    );
  return isConnectionError(err);
}

/**
 * The kind a failed cycle is counted under (`errors:{kind}`, `chain_worker_errors_total{kind}`):
 * `redis` for anything from Redis, the Massive client's kinds (`auth`, `rate_limited`, `server`,
 * `client`, `malformed`, `timeout`, `connection`, `fetch_failed`), else `internal`.
 *
 * @example
 * classifyError(new ReplyError('MOVED 2797 127.0.0.1:7001')); // 'redis'
 */
export function classifyError(err: unknown): string {
  const kind = errorKind(err);
  if (kind !== 'internal') return kind;
  return isRedisError(err) ? 'redis' : 'internal';
}

/** Base of the Redis layer's own errors; each carries the underlying error as `cause`. */
export class RedisLayerError extends Error {
  override readonly name: string = 'RedisLayerError';
}

/** A connection of ours (a bulk socket) was lost or refused. */
export class RedisConnectionError extends RedisLayerError {
  override readonly name = 'RedisConnectionError';
}

/** Reads on a cluster that still failed after refreshing the slot map and retrying. */
export class ClusterReadError extends RedisLayerError {
  override readonly name = 'ClusterReadError';
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `Redis Cluster read failed after ${attempts} attempts: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
