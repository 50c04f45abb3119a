/**
 * @module The Redis bus: one narrow interface over a single server or a cluster. Everything else in the
 * project talks to Redis through it; standalone versus cluster is a constructor choice.
 */
import { isIP } from 'node:net';
import { Cluster, Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import type { ConnectionOptions } from 'node:tls';
import { clusterGetMany, retryClusterRead } from './cluster-read.js';
import { rateLimitedErrorLog, type WarnSink } from './error-log.js';
import { RedisConnectionError, RedisLayerError } from './errors.js';
import { isReadOnlyReply, RawPipeline, type EncodedSource } from './raw-pipeline.js';
import { defineScripts, RedisScripts } from './scripts.js';
import { encodeCommandPieces, type BulkCommand } from './resp.js';
import { parseRedisUrls, type RedisEndpoint } from './redis-url.js';

/** The commands the project uses; both `Redis` and `Cluster` provide them. */
export type RedisCommands = Pick<
  Redis,
  | 'get'
  | 'getrange'
  | 'set'
  | 'del'
  | 'exists'
  | 'expire'
  | 'pexpire'
  | 'ttl'
  | 'pttl'
  | 'type'
  | 'incr'
  | 'hset'
  | 'hget'
  | 'hgetall'
  | 'hincrby'
  | 'hincrbyfloat'
  | 'hdel'
  | 'zadd'
  | 'zrangebyscore'
  | 'zrevrangebyscore'
  | 'getBuffer'
  | 'zremrangebyscore'
  | 'zcard'
  | 'zrem'
  | 'sadd'
  | 'srem'
  | 'smembers'
  | 'sismember'
  | 'rpush'
  | 'ltrim'
  | 'lrange'
  | 'publish'
  | 'xadd'
  | 'xrange'
  | 'xrevrange'
  | 'hmget'
  | 'hmgetBuffer'
  | 'ping'
  | 'info'
  | 'evalsha'
  | 'eval'
>;

/** A write for the bulk path: only commands whose reply is a status, error or integer line (resp.ts). */
export type { BulkCommand };

/** Bulk writes: an array, or a lazy iterable that knows its length (see `CommandSource`). */
export interface BulkCommands extends Iterable<BulkCommand> {
  readonly length: number;
}

/** Some bulk writes were refused (the first refusal, e.g. `OOM command not allowed…`, is in the message). */
export class BulkWriteError extends RedisLayerError {
  override readonly name = 'BulkWriteError';
  constructor(
    readonly failed: number,
    firstError: string,
  ) {
    super(`${failed} bulk Redis writes failed: ${firstError}`);
  }
}

/** The key a bulk command writes (a script's is after its SHA or source and key count). */
function bulkKey(c: BulkCommand): string | undefined {
  return c[0] === 'EVALSHA' || c[0] === 'EVAL' ? c[3] : c[1];
}

/** A bulk connection failed (closed, refused, timed out): same message, typed, the socket error as `cause`. */
function bulkConnectionError(err: unknown): Error {
  if (err instanceof RedisLayerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RedisConnectionError(message, { cause: err });
}

export interface BusOptions {
  /** redis:// or rediss:// URL; comma-separated seeds for a cluster. */
  url: string;
  cluster?: boolean;
  /** Extra TLS options (e.g. a CA for a private server). */
  tls?: ConnectionOptions;
  /** Name shown in CLIENT LIST. */
  name?: string;
  /** Fail commands quickly when Redis is down (the worker counts the cycle failed and moves on). */
  maxRetriesPerRequest?: number;
  /** Connection errors are logged here, at most one line per 10 s per connection (none when absent). */
  logger?: WarnSink;
}

/** TLS SNI for a host name; none for an IP address (SNI takes names only). */
export function sniFor(host: string): { servername?: string } {
  return isIP(host) === 0 ? { servername: host } : {};
}

/** A PUBLISH, or an XADD with `MAXLEN ~` and one field, of a payload sent without a copy ({@link RedisBus.publishAndAppend}). */
export type LargeMessage =
  | { kind: 'publish'; channel: string; payload: Buffer }
  | { kind: 'xadd'; stream: string; maxLen: number; field: string; payload: Buffer };

export class RedisBus {
  /**
   * The connection. Not handed out: the project's code goes through the methods below (typed commands,
   * transactions, bulk writes, large values, reads retried on a cluster, a second connection for SUBSCRIBE).
   * Protected so that a test or benchmark harness can subclass the bus to inspect the server.
   */
  protected readonly client: Redis | Cluster;
  readonly isCluster: boolean;
  /** The Lua scripts, one typed function each. */
  readonly scripts: RedisScripts;
  /**
   * Incremented every time the connection (re)becomes ready, a cluster node connection ends, or a bulk-write
   * connection is lost: a change mid-cycle means Redis may have lost data.
   */
  generation = 0;
  private readonly endpoints: RedisEndpoint[];
  private readonly raw = new Map<string, RawPipeline>();
  private closed = false;

  constructor(private readonly opts: BusOptions) {
    this.endpoints = parseRedisUrls(opts.url);
    const first = this.endpoints[0];
    if (!first) throw new Error('no Redis URL');
    this.isCluster = opts.cluster === true;
    const common: RedisOptions = {
      connectionName: opts.name ?? 'chain-worker',
      maxRetriesPerRequest: opts.maxRetriesPerRequest ?? 2,
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(100 * 2 ** times, 2_000),
      // After disconnect(), ioredis waits this long (a non-unref'd timer) for the socket to close: a refused
      // or unanswered connection kept a failed start-up alive 2 s (the default).
      disconnectTimeout: 200,
      lazyConnect: false,
      ...(first.username ? { username: first.username } : {}),
      ...(first.password !== undefined ? { password: first.password } : {}),
      ...(first.tls ? { tls: { ...sniFor(first.host), ...(opts.tls ?? {}) } } : {}),
    };
    if (this.isCluster) {
      this.client = new Cluster(
        this.endpoints.map((e) => ({ host: e.host, port: e.port })),
        {
          redisOptions: { ...common, enableAutoPipelining: false },
          // No auto-pipelining on a cluster: it batches commands of many slots per node, and a batch that
          // comes back partly MOVED is rejected without a retry or a slot-map refresh (a read-only process
          // then asks the wrong node forever). Single commands are redirected and retried by the client;
          // many-key reads go through clusterGetMany; bulk writes through the raw per-master path.
          enableAutoPipelining: false,
          slotsRefreshTimeout: 2_000,
          // A safety net: even a process that never meets a redirect learns a new slot map within 5 s.
          slotsRefreshInterval: 5_000,
          clusterRetryStrategy: (times) => Math.min(100 * 2 ** times, 2_000),
        },
      );
    } else {
      // Set while the connection that answered READONLY is being dropped: every command pipelined on it
      // answers READONLY too, and each reconnect request would add another 'close' listener to that socket.
      let dropping = false;
      this.client = new Redis({
        host: first.host,
        port: first.port,
        db: first.db,
        ...common,
        // A server demoted to a replica (a failover behind the same address) keeps its open connections and
        // answers every write READONLY: the command fails, and the client reconnects to whoever the
        // address names now. (A cluster replica redirects with MOVED instead.)
        // Once per connection (the later replies' commands fail as they are).
        reconnectOnError: (err) => {
          if (dropping || !isReadOnlyReply(err.message)) return false;
          dropping = true;
          return true;
        },
      });
      this.client.on('connect', () => {
        dropping = false;
      });
    }
    this.client.on('ready', () => {
      this.generation++;
    });
    // A cluster stays `ready` while one master restarts: its node connection ends (and is replaced) instead.
    // That master may have lost what this process wrote to it.
    if (this.isCluster)
      this.client.on('-node', () => {
        this.generation++;
      });
    this.client.on('error', rateLimitedErrorLog(opts.logger, opts.name ?? 'redis'));
    defineScripts(this.client);
    this.scripts = new RedisScripts(this.client);
  }

  /** True while the connection is ready (false while it reconnects). */
  get connected(): boolean {
    return this.client.status === 'ready';
  }

  /** Typed command surface. */
  get cmd(): RedisCommands {
    return this.client;
  }

  /**
   * A MULTI/EXEC transaction; on a cluster every key it touches must hash to one slot (one hash tag).
   */
  multi(): ChainableCommander {
    return this.client.multi();
  }

  /** Calls `fn` with each connection error until the returned function is called (start-up diagnostics). */
  onConnectionError(fn: (err: Error) => void): () => void {
    this.client.on('error', fn);
    return () => {
      this.client.off('error', fn);
    };
  }

  /**
   * Drops the connection without QUIT and without reconnecting: for a server that never answered (a QUIT it
   * does not answer would hold forever, and a command on a disconnected client never settles).
   */
  abandon(): void {
    this.closed = true;
    for (const p of this.raw.values()) p.close();
    this.raw.clear();
    this.client.disconnect(false);
  }

  /**
   * Shutting down: from now on a command fails at once while the connection is down instead of waiting in
   * the offline queue for a reconnect, and those already waiting fail at the next failed reconnect attempt
   * (at most the 2 s back-off). Without it a stop with Redis gone waited seconds per command (lease
   * releases, the final heartbeat) and the 15 s hard limit ended the process.
   */
  failFast(): void {
    this.client.options.enableOfflineQueue = false;
    if (!this.isCluster) (this.client as Redis).options.maxRetriesPerRequest = 0;
  }

  /** Waits until the connection is ready (or fails after `timeoutMs`). */
  async ready(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.client.ping();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /**
   * Writes many keys fast: pre-encoded RESP over dedicated connections (one per cluster master), in
   * chunks. Commands answered with MOVED/ASK (a resharding cluster) are retried through the client.
   */
  async writeBulk(commands: BulkCommands): Promise<void> {
    if (commands.length === 0) return;
    if (!this.isCluster) {
      // A single server never redirects: stream the source as it is produced.
      const outcome = await this.rawFor('single')
        .run(commands)
        .catch((err: unknown) => {
          throw bulkConnectionError(err);
        });
      const first = outcome.errors.values().next();
      if (!first.done) throw new BulkWriteError(outcome.errors.size, first.value);
      return;
    }
    const groups = this.groupByNode(commands);
    const failures: { cmd: BulkCommand; error: string }[] = [];
    await Promise.all(
      [...groups].map(async ([node, cmds]) => {
        const outcome = await this.rawFor(node)
          .run(cmds)
          .catch((err: unknown) => {
            throw bulkConnectionError(err);
          });
        for (const [i, error] of outcome.errors) failures.push({ cmd: cmds[i] as BulkCommand, error });
      }),
    );
    if (failures.length === 0) return;
    const redirected = failures.filter((f) => /^(MOVED|ASK) /.test(f.error));
    const fatal = failures.filter((f) => !/^(MOVED|ASK) /.test(f.error));
    if (fatal.length > 0) throw new BulkWriteError(fatal.length, fatal[0]?.error ?? '');
    if (this.isCluster) await new Promise<void>((r) => (this.client as Cluster).refreshSlotsCache(() => r()));
    await Promise.all(redirected.map((f) => this.client.call(String(f.cmd[0]), ...f.cmd.slice(1))));
  }

  /**
   * Writes commands already encoded as RESP (each answered by one line) on the bulk connection. Single
   * server only: on a cluster the commands must be grouped by node, so callers use {@link writeBulk}.
   */
  async writeEncoded(source: EncodedSource): Promise<void> {
    if (this.isCluster) throw new Error('writeEncoded: a cluster takes writeBulk (commands grouped by node)');
    await this.sendEncoded('single', source);
  }

  /**
   * SET of a multi-megabyte value without copying it: on a single server its bytes go straight to a raw
   * connection of their own (ioredis would copy them into one command buffer, then again into its
   * pipeline's), so the bulk writes of a cycle never queue behind it; on a cluster, through the client.
   * `value` may be given as pieces (a document assembled from fragments): they are written one after
   * another as the one value, without joining them into a buffer first.
   */
  async setLarge(
    key: string,
    value: Buffer | readonly Buffer[],
    ttlSec?: number,
    /** The raw connection: `models` keeps the model SETs from queuing behind a multi-MB document. */
    lane: 'large' | 'models' = 'large',
  ): Promise<void> {
    if (this.isCluster) {
      const bytes = Buffer.isBuffer(value) ? value : Buffer.concat(value);
      if (ttlSec === undefined) await this.cmd.set(key, bytes);
      else await this.cmd.set(key, bytes, 'EX', ttlSec);
      return;
    }
    // A value given in pieces is streamed piece by piece (never joined here).
    const pieces: readonly Buffer[] = Buffer.isBuffer(value) ? [value] : value;
    const bytes = encodeCommandPieces(
      ttlSec === undefined ? ['SET', key, pieces] : ['SET', key, pieces, 'EX', String(ttlSec)],
    );
    await this.sendEncoded(lane, { commands: 1, [Symbol.iterator]: () => bytes[Symbol.iterator]() });
  }

  /**
   * PUBLISHes and XADDs of large payloads (MarketSwarm's heatmap diffs, up to 128 KiB each), in order, on a
   * raw connection of their own (`streams`, which counts XADD's entry-id reply): each payload's bytes go to
   * the socket as they are, where ioredis copied each into its command buffer and again into its
   * auto-pipeline's. Resolves when every reply is in; rejects on the first error reply. On a cluster,
   * through the client, one command at a time in order.
   */
  async publishAndAppend(commands: readonly LargeMessage[]): Promise<void> {
    if (commands.length === 0) return;
    if (this.isCluster) {
      for (const c of commands) {
        if (c.kind === 'publish') await this.cmd.publish(c.channel, c.payload);
        else await this.cmd.xadd(c.stream, 'MAXLEN', '~', String(c.maxLen), '*', c.field, c.payload);
      }
      return;
    }
    const pieces = commands.flatMap((c) =>
      encodeCommandPieces(
        c.kind === 'publish'
          ? ['PUBLISH', c.channel, [c.payload]]
          : ['XADD', c.stream, 'MAXLEN', '~', String(c.maxLen), '*', c.field, [c.payload]],
      ),
    );
    await this.sendEncoded('streams', {
      commands: commands.length,
      [Symbol.iterator]: () => pieces[Symbol.iterator](),
    });
  }

  /**
   * Sends commands already encoded as RESP on one raw connection of a single server and waits for every
   * reply; a connection failure becomes a {@link RedisConnectionError}, the first error reply a
   * {@link BulkWriteError} (with the count of error replies).
   */
  private async sendEncoded(
    lane: 'single' | 'large' | 'models' | 'streams',
    source: EncodedSource,
  ): Promise<void> {
    const outcome = await this.rawFor(lane)
      .runEncoded(source)
      .catch((err: unknown) => {
        throw bulkConnectionError(err);
      });
    const first = outcome.errors.values().next();
    if (!first.done) throw new BulkWriteError(outcome.errors.size, first.value);
  }

  /**
   * GETs many keys: MGET in chunks on a single server; on a cluster, pipelined GETs per node that follow
   * MOVED / ASK and retry through resharding and failover (see cluster-read.ts).
   */
  async getMany(keys: readonly string[], chunk = 1_000): Promise<(string | null)[]> {
    if (this.isCluster) return clusterGetMany<string>(this.client as Cluster, keys, 'get');
    const out: (string | null)[] = [];
    const parts: Promise<(string | null)[]>[] = [];
    for (let i = 0; i < keys.length; i += chunk) parts.push(this.client.mget(keys.slice(i, i + chunk)));
    for (const p of await Promise.all(parts)) out.push(...p);
    return out;
  }

  /** Like {@link getMany}, as Buffers (no string decoding: the bytes go to the model thread as they are). */
  async getManyBuffers(keys: readonly string[], chunk = 1_000): Promise<(Buffer | null)[]> {
    if (this.isCluster) return clusterGetMany<Buffer>(this.client as Cluster, keys, 'getBuffer');
    const parts: Promise<(Buffer | null)[]>[] = [];
    for (let i = 0; i < keys.length; i += chunk) parts.push(this.client.mgetBuffer(keys.slice(i, i + chunk)));
    return (await Promise.all(parts)).flat();
  }

  /**
   * Runs a read; on a cluster it is retried (slot map refreshed, bounded backoff) while the error is a
   * redirect, a passing cluster state or a lost connection, as bulk writes are. A single server is asked
   * once (its errors are not transient in that sense).
   */
  read<T>(fn: (r: RedisCommands) => Promise<T>): Promise<T> {
    if (!this.isCluster) return fn(this.client);
    return retryClusterRead(this.client as Cluster, () => fn(this.client));
  }

  /** A second connection for SUBSCRIBE. */
  duplicate(): Redis | Cluster {
    const dup = this.client.duplicate();
    dup.on('error', rateLimitedErrorLog(this.opts.logger, `${this.opts.name ?? 'redis'} subscriber`));
    return dup;
  }

  private groupByNode(commands: BulkCommands): Map<string, BulkCommand[]> {
    const slots = (this.client as Cluster).slots;
    const groups = new Map<string, BulkCommand[]>();
    for (const c of commands) {
      const node = slots[calculateSlot(String(bulkKey(c)))]?.[0] ?? 'unknown';
      let g = groups.get(node);
      if (!g) groups.set(node, (g = []));
      g.push(c);
    }
    return groups;
  }

  private rawFor(node: string): RawPipeline {
    let p = this.raw.get(node);
    if (!p) {
      const first = this.endpoints[0] as RedisEndpoint;
      let endpoint: RedisEndpoint = first;
      if (node !== 'single' && node !== 'large' && node !== 'models' && node !== 'streams') {
        const i = node.lastIndexOf(':');
        endpoint = { ...first, host: node.slice(0, i), port: Number(node.slice(i + 1)), db: 0 };
      }
      p = new RawPipeline(
        endpoint,
        { ...sniFor(endpoint.host), ...(this.opts.tls ?? {}) },
        undefined,
        node === 'streams',
        // The bulk writes went to that server (on a cluster, to that master): they may be lost with it.
        () => {
          this.generation++;
        },
      );
      this.raw.set(node, p);
    }
    return p;
  }

  /** Closes every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.raw.values()) p.close();
    this.raw.clear();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
