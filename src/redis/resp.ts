/**
 * @module RESP encoding for the bulk-write hot path. Pure.
 *
 * Why by hand: the benchmark showed a general client's per-command objects and promises cost 2–3× the
 * time Redis needs to execute 40,000 SETs; encoding straight into one Buffer per chunk removes that, and
 * lets raw contract bytes (Buffer slices of the fetched page) go out without a copy into a string.
 * Only commands whose replies are single lines (`+…`, `-…`, `:…`) may be sent this way: the bulk writer
 * counts replies by line ({@link LineReplies}), so {@link BulkCommand} admits only those.
 */

export type RespArg = string | Buffer;

/**
 * The commands the bulk writer may send: each is answered by exactly one line (`+OK`, `:n`, `$-1` — a SET
 * XX whose key is absent — or an error such as `-OOM …` or `-MOVED …`), which is how replies are counted. A command with a multi-line reply
 * (GET, a SET with GET, MGET, …) would desynchronise the count, so it does not type-check here.
 */
export type BulkCommand =
  | readonly ['SET', string, RespArg]
  | readonly ['SET', string, RespArg, 'EX', string]
  | readonly ['SET', string, RespArg, 'XX', 'KEEPTTL']
  /** A one-key script answering an integer (`live-substrate`): the key is the fourth element. */
  | readonly ['EVALSHA' | 'EVAL', string, '1', string, RespArg]
  | readonly ['DEL', string]
  | readonly ['EXPIRE', string, string]
  | readonly ['PING'];

/** `SET key value EX ttl`. */
export function setEx(key: string, value: RespArg, ttlSec: number | string): BulkCommand {
  return ['SET', key, value, 'EX', String(ttlSec)];
}

/** `DEL key`. */
export function del(key: string): BulkCommand {
  return ['DEL', key];
}

/** `EXPIRE key ttl`. */
export function expire(key: string, ttlSec: number | string): BulkCommand {
  return ['EXPIRE', key, String(ttlSec)];
}

/** Encodes one command as a string (strings only; tests and baselines). */
export function encodeCommand(args: readonly RespArg[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = typeof a === 'string' ? a : a.toString('utf8');
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

/**
 * Encodes one command whose arguments may be given as pieces (a multi-megabyte value assembled from
 * fragments): its RESP bytes as a list of buffers, the pieces themselves among them, never joined or
 * copied. Written one after another, they are the command `encodeCommands` gives for the pieces joined.
 */
export function encodeCommandPieces(args: readonly (string | readonly Buffer[])[]): Buffer[] {
  const out: Buffer[] = [];
  let text = `*${args.length}\r\n`;
  for (const a of args) {
    if (typeof a === 'string') {
      text += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
      continue;
    }
    out.push(Buffer.from(`${text}$${a.reduce((n, p) => n + p.length, 0)}\r\n`));
    for (const p of a) if (p.length > 0) out.push(p);
    text = '\r\n';
  }
  out.push(Buffer.from(text));
  return out;
}

function digits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : String(n).length;
}

/** Writes `prefix`, the decimal `n` and CRLF at `o`; returns the new offset. */
function writeHeader(buf: Buffer, o: number, prefix: number, n: number): number {
  buf[o++] = prefix;
  const len = digits(n);
  for (let i = o + len - 1, v = n; i >= o; i--, v = Math.floor(v / 10)) buf[i] = 48 + (v % 10);
  o += len;
  buf[o++] = 13;
  buf[o++] = 10;
  return o;
}

/**
 * Encodes commands `[start, end)` into one Buffer: one allocation per chunk, lengths written as digits in
 * place, one-byte strings copied as latin1 (keys and substrate JSON are ASCII), Buffers copied.
 */
export function encodeCommands(cmds: readonly (readonly RespArg[])[], start = 0, end = cmds.length): Buffer {
  const lens: number[] = [];
  let size = 0;
  for (let i = start; i < end; i++) {
    const args = cmds[i] as readonly RespArg[];
    size += 3 + digits(args.length);
    for (const a of args) {
      const n = typeof a === 'string' ? Buffer.byteLength(a) : a.length;
      lens.push(n);
      size += 5 + digits(n) + n;
    }
  }
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  let k = 0;
  for (let i = start; i < end; i++) {
    const args = cmds[i] as readonly RespArg[];
    o = writeHeader(buf, o, 42 /* '*' */, args.length);
    for (const a of args) {
      const n = lens[k++] as number;
      o = writeHeader(buf, o, 36 /* '$' */, n);
      if (typeof a !== 'string') o += a.copy(buf, o);
      else if (n === a.length) o += buf.write(a, o, 'latin1');
      else o += buf.write(a, o, 'utf8');
      buf[o++] = 13;
      buf[o++] = 10;
    }
  }
  return buf;
}

/** A reply line that is not a status, an error or an integer: the stream is not what the writer sent for. */
export class ReplyProtocolError extends Error {
  override readonly name = 'ReplyProtocolError';
}

const PLUS = 0x2b;
const MINUS = 0x2d;
const COLON = 0x3a;
const DOLLAR = 0x24;
const LF = 0x0a;
const CR = 0x0d;

/** `$-1` (a null bulk string), with or without its CR. */
function isNullBulk(line: Buffer): boolean {
  const n = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
  return n === 3 && line[1] === MINUS && line[2] === 0x31; /* '1' */
}

/**
 * Counts one-line replies in a byte stream however it is split into chunks: each complete line is one
 * reply; an error line (`-…`) is reported with its text. Only error lines are decoded (UTF-8, whole, even
 * when a chunk boundary falls inside a character). Pure.
 */
export class LineReplies {
  /** Bytes of a line begun in an earlier chunk (empty between lines). */
  private carry: Buffer[] = [];
  /** Bytes of a bulk reply's body (and its CRLF) still to skip before the reply is counted. */
  private skip = 0;

  /**
   * @param bulk also count bulk-string replies (`$n` and its n bytes, or `$-1`) as one reply each, their
   *   bodies skipped unread: for a connection that sends commands answered that way (XADD's entry id).
   */
  constructor(private readonly bulk = false) {}

  /**
   * Feeds a chunk; calls `onReply` once per complete line, with the error text or null. Throws
   * {@link ReplyProtocolError} on a line that is not `+`, `-`, `:` or `$-1` (a multi-line reply).
   */
  feed(chunk: Buffer, onReply: (error: string | null) => void): void {
    let start = 0;
    for (;;) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, chunk.length - start);
        this.skip -= take;
        start += take;
        if (this.skip > 0) return; // the body goes on in the next chunk
        onReply(null);
        continue;
      }
      if (this.carry.length === 0) {
        // The common reply (`+OK`, `:1`) is counted where it lies: no view of it is cut out of the chunk
        // (80,000 views a cycle were ~8 MB of garbage on the main thread, and `indexOf` a native call each).
        const kind = chunk[start];
        if (kind === PLUS || kind === COLON) {
          let end = start + 1;
          while (end < chunk.length && chunk[end] !== LF) end++;
          if (end === chunk.length) break; // the line goes on in the next chunk
          start = end + 1;
          onReply(null);
          continue;
        }
      }
      const end = chunk.indexOf(LF, start);
      if (end < 0) break;
      let line: Buffer;
      if (this.carry.length > 0) {
        line = Buffer.concat([...this.carry, chunk.subarray(start, end)]);
        this.carry = [];
      } else {
        line = chunk.subarray(start, end);
      }
      start = end + 1;
      const kind = line[0];
      if (kind === PLUS || kind === COLON) {
        onReply(null);
      } else if (kind === MINUS) {
        const stop = line.length > 1 && line[line.length - 1] === CR ? line.length - 1 : line.length;
        onReply(line.toString('utf8', 1, stop));
      } else if (kind === DOLLAR && !this.bulk && isNullBulk(line)) {
        onReply(null); // `$-1`: a SET XX whose key is absent
      } else if (kind === DOLLAR && this.bulk) {
        const stop = line.length > 1 && line[line.length - 1] === CR ? line.length - 1 : line.length;
        const text = line.toString('latin1', 1, stop);
        const n = Number(text);
        if (!/^(-1|0|[1-9][0-9]*)$/.test(text) || !Number.isSafeInteger(n))
          throw new ReplyProtocolError(`bad bulk length ${JSON.stringify(text)}`);
        if (n < 0) onReply(null);
        else this.skip = n + 2;
      } else {
        throw new ReplyProtocolError(
          `unexpected reply line starting ${kind === undefined ? 'empty' : JSON.stringify(String.fromCharCode(kind))}`,
        );
      }
    }
    if (start < chunk.length) this.carry.push(Buffer.from(chunk.subarray(start)));
  }

  /** Forgets a partial line (a new connection). */
  reset(): void {
    this.carry = [];
    this.skip = 0;
  }
}
