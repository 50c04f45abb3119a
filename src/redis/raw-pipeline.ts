/**
 * @module A dedicated connection that streams pre-encoded RESP commands and counts their line replies:
 * the bulk-write hot path (see resp.ts for why). Batches take turns on the socket: the next one starts
 * sending as soon as the previous one's bytes are all written (not when its replies are in), so Redis
 * never idles between two batches, e.g. the two symbols' writes of a cycle; replies come back in order
 * and are counted against their batch.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { encodeCommand, encodeCommands, LineReplies, type BulkCommand } from './resp.js';
import type { RedisEndpoint } from './redis-url.js';
import { nextTurn } from '../lib/slices.js';

export interface BatchOutcome {
  /** Replies received (equals the commands sent on success). */
  replies: number;
  /** Commands answered with an error line, by index in the batch. */
  errors: Map<number, string>;
}

interface Pending {
  expected: number;
  received: number;
  errors: Map<number, string>;
  resolve: (o: BatchOutcome) => void;
  reject: (e: Error) => void;
}

/** A batch whose bytes are sent: its outcome to come, and whether every byte went out on a live socket. */
interface Sent {
  done: Promise<BatchOutcome>;
  complete: boolean;
}

const nothing = (): BatchOutcome => ({ replies: 0, errors: new Map() });

/**
 * A `READONLY` error reply: the server was demoted to a replica (a failover behind the same address) and
 * will refuse every write on this connection; a new one reaches the server the address names now.
 */
export function isReadOnlyReply(message: string): boolean {
  return message.startsWith('READONLY ');
}

const CHUNK_COMMANDS = 1_000;

/**
 * Bytes the writer puts on the socket in one turn of the event loop before it gives the loop a turn…
 * The kernel takes a local socket's writes at once (its buffer grows to megabytes), so yielding after
 * every 256 KB chunk kept Redis at most one chunk (~2 ms of its work) ahead of this thread, and every
 * stall of the main thread idled it: in the write scenario Redis was busy 139–167 ms of the worker's
 * 169–246 ms write, and 134–146 ms of the raw socket's 139–156 (the performance log, 4 Dec 05:23).
 */
export const TURN_BYTES = 2 * 1024 * 1024;
/** …or for this long, whichever comes first (a lazy source's chunks cost CPU to encode). */
export const TURN_MS = 1;

/** What the writer does after writing a chunk (see {@link afterWrite}). */
export type NextStep = 'continue' | 'yield' | 'drain';

/**
 * After a chunk is written: wait for `drain` when the socket said so (the kernel's buffer is full and
 * bytes queue here); else write the next chunk in the same turn until the turn's bytes or time are
 * spent, then give the event loop a turn.
 */
export function afterWrite(accepted: boolean, turnBytes: number, turnMs: number): NextStep {
  if (!accepted) return 'drain';
  return turnBytes >= TURN_BYTES || turnMs >= TURN_MS ? 'yield' : 'continue';
}

/** The bytes and time a batch has spent in the current turn of the event loop. */
class TurnBudget {
  bytes = 0;
  started = performance.now();

  reset(): void {
    this.bytes = 0;
    this.started = performance.now();
  }
}

/** Commands to stream: an array, or any iterable that knows its length up front (replies are counted). */
export interface CommandSource extends Iterable<BulkCommand> {
  readonly length: number;
}

/** Resolves on the socket's next 'drain' or 'close', whichever comes first. */
function drainOrClose(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

/**
 * Commands already encoded as RESP: how many, and their bytes in chunks (see wiring/page-writes.ts). A
 * chunk may be a promise (bytes still being made, e.g. compressed): it is awaited in its turn, and nothing
 * else is sent on the connection meanwhile; a rejected one fails the connection (its count is lost).
 */
export interface EncodedSource extends Iterable<Buffer | Promise<Buffer>> {
  readonly commands: number;
}

export class RawPipeline {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private pending: Pending[] = [];
  private readonly replies: LineReplies;
  private lock: Promise<unknown> = Promise.resolve();
  /** The server answered READONLY on this connection: it is dropped once its batches are answered. */
  private demoted = false;

  /**
   * @param bulkReplies count bulk-string replies too (see {@link LineReplies}): a connection that sends
   *   XADD (its reply is the entry id). Off, such a reply is a protocol error, as every other one.
   */
  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly tlsOptions: ConnectionOptions = {},
    private readonly connectTimeoutMs = 5_000,
    bulkReplies = false,
    /**
     * Called when an open connection closes without being asked to (the server went away: what it held
     * may be lost).
     */
    private readonly onLost: () => void = () => undefined,
  ) {
    this.replies = new LineReplies(bulkReplies);
  }

  /**
   * Sends every command and resolves when all replies are in. Commands are written in chunks as they are
   * encoded, so Redis executes the first chunk while later ones are still being built.
   */
  run(commands: CommandSource): Promise<BatchOutcome> {
    return this.turn(() => this.runNow(commands));
  }

  /**
   * Sends commands already encoded as RESP (`source.commands` of them, each answered by one line: the
   * page threads encode only `SET … EX`) and resolves when all replies are in.
   */
  runEncoded(source: EncodedSource): Promise<BatchOutcome> {
    return this.turn(() => this.runEncodedNow(source));
  }

  /**
   * Runs `send` when the batches before it are sent. The next batch may start once this one's bytes are
   * all on the socket; when the socket failed meanwhile, only once this batch has settled (so the next
   * one is never counted against a dead connection's replies).
   */
  private turn(send: () => Promise<Sent>): Promise<BatchOutcome> {
    const sent = this.lock.then(send);
    const settled = (): undefined => undefined;
    this.lock = sent.then((s) => (s.complete ? undefined : s.done.then(settled, settled)), settled);
    return sent.then((s) => s.done);
  }

  private async runEncodedNow(source: EncodedSource): Promise<Sent> {
    if (source.commands === 0) return { done: Promise.resolve(nothing()), complete: true };
    const socket = await this.ensureSocket();
    const done = this.expect(source.commands);
    const turn = new TurnBudget();
    for (const chunk of source) {
      let bytes: Buffer;
      try {
        bytes = Buffer.isBuffer(chunk) ? chunk : await chunk;
      } catch (err) {
        const cause = err instanceof Error ? err : new Error(String(err));
        socket.destroy(new Error(`bulk source failed: ${cause.message}`, { cause }));
        break;
      }
      if (!Buffer.isBuffer(chunk)) turn.reset();
      if (!(await this.sendBytes(socket, bytes, turn))) break;
    }
    return { done, complete: !socket.destroyed };
  }

  /** Registers a batch of `n` replies to count. */
  private expect(n: number): Promise<BatchOutcome> {
    const done = new Promise<BatchOutcome>((resolve, reject) => {
      this.pending.push({ expected: n, received: 0, errors: new Map(), resolve, reject });
    });
    // The connection may drop while later chunks are still being written: `done` is then rejected before
    // it is returned. Mark it handled now (the caller still gets the rejection) so it is not reported as
    // an unhandled rejection.
    done.catch(() => undefined);
    return done;
  }

  private async runNow(commands: CommandSource): Promise<Sent> {
    if (commands.length === 0) return { done: Promise.resolve(nothing()), complete: true };
    const socket = await this.ensureSocket();
    const done = this.expect(commands.length);
    // Commands are pulled from the source a chunk at a time: a lazy source is never all in memory, and
    // the event loop gets a turn once a turn's bytes or time are spent ({@link afterWrite}).
    const batch: BulkCommand[] = [];
    const turn = new TurnBudget();
    let sent = 0;
    for (const cmd of commands) {
      batch.push(cmd);
      if (batch.length < CHUNK_COMMANDS) continue;
      if (!(await this.send(socket, batch, turn))) break;
      sent += batch.length;
      batch.length = 0;
    }
    if (batch.length > 0 && !socket.destroyed) {
      sent += batch.length;
      await this.send(socket, batch, turn);
    }
    if (sent !== commands.length && !socket.destroyed) {
      socket.destroy(new Error(`bulk source yielded ${sent} commands, announced ${commands.length}`));
    }
    return { done, complete: !socket.destroyed };
  }

  /** Encodes and writes one chunk; false when the socket is gone. */
  private send(socket: Socket, batch: readonly BulkCommand[], turn: TurnBudget): Promise<boolean> {
    return this.sendBytes(socket, encodeCommands(batch), turn);
  }

  /**
   * Writes one chunk of encoded commands ({@link afterWrite}: the kernel's buffer, not this thread's
   * turns, decides how far Redis is ahead); false when the socket is gone.
   */
  private async sendBytes(socket: Socket, chunk: Buffer, turn: TurnBudget): Promise<boolean> {
    const accepted = socket.write(chunk);
    turn.bytes += chunk.length;
    if (socket.destroyed) return false;
    const step = afterWrite(accepted, turn.bytes, performance.now() - turn.started);
    if (step === 'continue') return true;
    // 'close' too: a socket destroyed while full never drains.
    if (step === 'drain') await drainOrClose(socket);
    else await nextTurn();
    turn.reset();
    return !socket.destroyed;
  }

  private ensureSocket(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<Socket> {
    const { host, port } = this.endpoint;
    const socket = this.endpoint.tls
      ? tlsConnect({ host, port, ...this.tlsOptions })
      : netConnect({ host, port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`redis bulk connection to ${host}:${port} timed out`));
      }, this.connectTimeoutMs);
      socket.once(this.endpoint.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.onLost();
      // A connection dropped on purpose ({@link drop}) fails nothing: its batches were all answered.
      if (this.socket === socket || this.socket === undefined)
        this.failAll(new Error('redis bulk connection closed'));
    });
    this.replies.reset();
    this.demoted = false;
    this.socket = socket;
    const hello: string[][] = [];
    if (this.endpoint.password !== undefined) {
      hello.push(
        this.endpoint.username
          ? ['AUTH', this.endpoint.username, this.endpoint.password]
          : ['AUTH', this.endpoint.password],
      );
    }
    if (this.endpoint.db !== 0) hello.push(['SELECT', String(this.endpoint.db)]);
    if (hello.length > 0) {
      const done = new Promise<BatchOutcome>((resolve, reject) => {
        this.pending.push({ expected: hello.length, received: 0, errors: new Map(), resolve, reject });
      });
      socket.write(hello.map(encodeCommand).join(''));
      const outcome = await done;
      if (outcome.errors.size > 0) {
        socket.destroy();
        throw new Error(`redis bulk connection handshake failed: ${[...outcome.errors.values()][0] ?? ''}`);
      }
    }
    return socket;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    try {
      this.replies.feed(chunk, (error) => {
        const head = this.pending[0];
        if (!head) return;
        if (error !== null) head.errors.set(head.received, error);
        if (error !== null && isReadOnlyReply(error)) this.demoted = true;
        head.received++;
        if (head.received === head.expected) {
          this.pending.shift();
          head.resolve({ replies: head.received, errors: head.errors });
          // Refused as a replica: once nothing more is awaited on it, the connection is dropped and the
          // next batch connects again (to the new master after a failover).
          if (this.demoted && this.pending.length === 0) this.drop(socket);
        }
      });
    } catch (err) {
      // Not a reply this writer can count: the count is lost, so is the connection (every batch fails).
      const failure = err as Error;
      this.failAll(new Error(`redis bulk connection: ${failure.message}`, { cause: failure }));
      socket.destroy();
    }
  }

  private failAll(err: Error): void {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) p.reject(err);
  }

  /** Drops a connection whose batches are all answered; the next batch opens a new one. */
  private drop(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
    socket.destroy();
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}
