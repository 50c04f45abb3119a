/**
 * @module The Massive HTTP layer: auth header, rate limit, per-request timeout, retries with exponential
 * backoff and jitter (honouring Retry-After), and vendor error bodies turned into typed errors.
 */
import { Agent, request, errors as undiciErrors } from 'undici';
import type { Logger } from '../../lib/logger.js';
import { sleep } from '../../lib/async.js';
import { documentProblem } from './api-document.js';
import type { BodyLease, BodyStore } from './body-slots.js';
import {
  MalformedPageError,
  MassiveAuthError,
  MassiveHttpError,
  MassiveNetworkError,
  scrubError,
  secretScrubber,
  type Scrubber,
} from './errors.js';
import { RateLimiter } from './rate-limiter.js';
import type { VendorErrorBody } from './types.js';

export interface MassiveHttpOptions {
  baseUrl: string;
  apiKey?: string;
  requestTimeoutMs: number;
  maxRetries: number;
  rateLimitRps: number;
  /** Sockets kept open to the API (≥ the stream concurrency). */
  connections: number;
  logger: Logger;
  /** First backoff step, ms (doubles each retry, with jitter). */
  retryBaseMs?: number;
  /** Longest single wait, ms. */
  retryMaxMs?: number;
}

/** Counters a caller passes in to learn what one walk cost. */
export interface RequestStats {
  pages: number;
  retries: number;
}

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

class RetryableError extends Error {
  constructor(
    readonly final: Error,
    readonly retryAfterMs?: number,
  ) {
    super(final.message);
  }
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(v);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function vendorBody(text: string): VendorErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

export class MassiveHttp {
  private readonly agent: Agent;
  private readonly limiter: RateLimiter;
  private readonly origin: string;
  private readonly basePath: string;
  /** Removes the API key (raw, bearer, encoded) from anything an error carries. */
  private readonly scrub: Scrubber;

  constructor(private readonly opts: MassiveHttpOptions) {
    this.scrub = secretScrubber(opts.apiKey);
    const base = new URL(opts.baseUrl);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/$/, '');
    this.agent = new Agent({ connections: opts.connections, keepAliveTimeout: 30_000, pipelining: 1 });
    this.limiter = new RateLimiter(
      opts.rateLimitRps,
      Math.max(1, Math.min(opts.connections, opts.rateLimitRps || 1)),
    );
  }

  /**
   * Resolves a path (`/v3/…?…`) or a vendor `next_url` to a request path on the configured origin.
   * A `next_url` keeps its path and query, loses any `apiKey` parameter, and is never sent to another host.
   */
  resolvePath(pathOrUrl: string): string {
    const url = new URL(pathOrUrl, this.origin);
    url.searchParams.delete('apiKey');
    const path = url.pathname.startsWith(this.basePath) ? url.pathname : this.basePath + url.pathname;
    return path + url.search;
  }

  /** GET a JSON document with retries. `signal` is the caller's overall deadline. */
  async getJson<T>(pathOrUrl: string, signal: AbortSignal, stats: RequestStats): Promise<T> {
    return (await this.getPage<T>(pathOrUrl, signal, stats)).doc;
  }

  /**
   * Like {@link getJson}, also returning the response bytes (for zero-copy raw storage). A body that is not
   * a document of the API (api-document.ts: e.g. `null`) is a malformed page, retried.
   */
  getPage<T>(
    pathOrUrl: string,
    signal: AbortSignal,
    stats: RequestStats,
  ): Promise<{ doc: T; bytes: Buffer }> {
    return this.getDecoded(pathOrUrl, signal, stats, (bytes) => {
      const doc: unknown = JSON.parse(bytes.toString('utf8'));
      const problem = documentProblem(doc);
      if (problem !== undefined) throw new Error(problem);
      return { doc: doc as T, bytes };
    });
  }

  /**
   * GET with retries, the 2xx body handed to `decode` (which may run elsewhere, e.g. on a page thread).
   * A body `decode` rejects is a malformed page: retried like one. With `bodies`, a 2xx body is read into
   * memory borrowed from it, given back once `decode` has settled.
   */
  async getDecoded<R>(
    pathOrUrl: string,
    signal: AbortSignal,
    stats: RequestStats,
    decode: (bytes: Buffer) => R | Promise<R>,
    bodies?: BodyStore,
  ): Promise<R> {
    const path = this.resolvePath(pathOrUrl);
    const base = this.opts.retryBaseMs ?? 250;
    const max = this.opts.retryMaxMs ?? 8_000;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.limiter.acquire(signal);
        const doc = await this.once(path, signal, decode, bodies);
        stats.pages++;
        return doc;
      } catch (err) {
        // The boundary: nothing this layer throws (or logs) may carry the key, whatever the server echoed.
        if (!(err instanceof RetryableError)) throw scrubError(err, this.scrub);
        scrubError(err.final, this.scrub);
        if (signal.aborted || attempt >= this.opts.maxRetries) throw err.final;
        const backoff = Math.min(max, base * 2 ** attempt) * (0.5 + Math.random() * 0.5);
        const wait = Math.max(err.retryAfterMs ?? 0, backoff);
        stats.retries++;
        this.opts.logger.debug(
          { path: redactQuery(path), attempt: attempt + 1, waitMs: Math.round(wait), err: err.final.message },
          'massive: retrying',
        );
        await sleep(wait, signal).catch(() => {
          throw err.final;
        });
      }
    }
  }

  private async once<R>(
    path: string,
    deadline: AbortSignal,
    decode: (bytes: Buffer) => R | Promise<R>,
    bodies: BodyStore | undefined,
  ): Promise<R> {
    const signal = AbortSignal.any([deadline, AbortSignal.timeout(this.opts.requestTimeoutMs)]);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let status: number;
    let bytes: Buffer;
    let lease: BodyLease | null = null;
    let retryAfter: string | string[] | undefined;
    try {
      const res = await request(this.origin + path, {
        method: 'GET',
        headers,
        signal,
        dispatcher: this.agent,
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        length += chunk.length;
      }
      lease = status >= 200 && status < 300 ? (bodies?.lease(length) ?? null) : null;
      bytes = lease ? fill(lease.bytes, chunks) : Buffer.concat(chunks, length);
    } catch (err) {
      const timedOut = signal.aborted && !deadline.aborted;
      const kind =
        timedOut ||
        err instanceof undiciErrors.HeadersTimeoutError ||
        err instanceof undiciErrors.BodyTimeoutError
          ? 'timeout'
          : 'connection';
      const netErr = new MassiveNetworkError(redactQuery(path), kind, err);
      if (deadline.aborted) throw netErr;
      throw new RetryableError(netErr);
    }
    if (status >= 200 && status < 300) {
      try {
        return await decode(bytes);
      } catch (err) {
        throw new RetryableError(new MalformedPageError(redactQuery(path), err));
      } finally {
        lease?.release();
      }
    }
    const text = bytes.toString('utf8');
    const body = vendorBody(text);
    const message = body.error ?? body.message;
    const vendorMessage = message === undefined ? undefined : this.scrub(String(message));
    const requestId = body.request_id === undefined ? undefined : this.scrub(String(body.request_id));
    if (status === 401 || status === 403) throw new MassiveAuthError(status, requestId, vendorMessage);
    const httpErr = new MassiveHttpError(status, requestId, vendorMessage, redactQuery(path));
    if (RETRY_STATUS.has(status)) throw new RetryableError(httpErr, parseRetryAfter(retryAfter));
    throw httpErr;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** `chunks` copied into `into` (exactly their length), which is returned. */
function fill(into: Buffer, chunks: readonly Buffer[]): Buffer {
  let at = 0;
  for (const c of chunks) at += c.copy(into, at);
  return into;
}

/** Query strings may hold cursors, never keys; still, logs show only the path and parameter names. */
export function redactQuery(path: string): string {
  const i = path.indexOf('?');
  if (i < 0) return path;
  const params = new URLSearchParams(path.slice(i + 1));
  const shown = [...params.keys()].map((k) => (k === 'cursor' ? 'cursor=…' : `${k}=${params.get(k) ?? ''}`));
  return `${path.slice(0, i)}?${shown.join('&')}`;
}
