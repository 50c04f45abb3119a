/**
 * @module HTTP errors: every failure the server answers is JSON `{error, message}`; bad requests are 4xx,
 * Redis trouble is 503, and only a bug is a 500.
 */
import type { FastifyReply } from 'fastify';

export interface ErrorBody {
  /** Stable, machine-readable code, e.g. `unknown_symbol`. */
  error: string;
  /** For a human. */
  message: string;
}

/** An error a handler throws to answer with `status` and `{error: code, message}`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendError(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send({ error, message } satisfies ErrorBody);
}

/** How long an HTTP handler waits for Redis before answering 503. */
export const REDIS_TIMEOUT_MS = 3_000;

/** Awaits a Redis call; a failure or a timeout becomes a 503 `redis_unavailable`. */
export async function fromRedis<T>(p: Promise<T>, timeoutMs = REDIS_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([p, timeout]);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(503, 'redis_unavailable', `Redis: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
