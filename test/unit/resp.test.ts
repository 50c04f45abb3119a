import { describe, expect, it } from 'vitest';
import {
  del,
  encodeCommand,
  encodeCommandPieces,
  encodeCommands,
  expire,
  LineReplies,
  ReplyProtocolError,
  setEx,
  type BulkCommand,
} from '../../src/redis/resp.js';

describe('RESP encoding', () => {
  it.each([
    [[['PING']], '*1\r\n$4\r\nPING\r\n'],
    [[['SET', 'k', 'v', 'EX', '300']], '*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$3\r\n300\r\n'],
    [[['SET', 'k', 'é']], '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n'],
    [
      [
        ['SET', 'k', Buffer.from('{"a":1}')],
        ['DEL', 'x'],
      ],
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$7\r\n{"a":1}\r\n*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n',
    ],
    [[['SET', 'k', '']], '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n'],
  ])('%j', (cmds, wire) => {
    expect(encodeCommands(cmds).toString('utf8')).toBe(wire);
    expect(cmds.map((c) => encodeCommand(c)).join('')).toBe(wire);
  });

  it('encodes a slice of the command list', () => {
    const cmds = [['A'], ['B'], ['C']];
    expect(encodeCommands(cmds, 1, 2).toString()).toBe('*1\r\n$1\r\nB\r\n');
  });
});

/** Every way the bulk writer's reply parser can see a stream: whole, and split at every byte. */
function splits(wire: Buffer): Buffer[][] {
  const out: Buffer[][] = [[wire], Array.from(wire, (b) => Buffer.from([b]))];
  for (let i = 1; i < wire.length; i++) out.push([wire.subarray(0, i), wire.subarray(i)]);
  for (let i = 1; i < wire.length; i++)
    for (let j = i + 1; j < wire.length; j++)
      out.push([wire.subarray(0, i), wire.subarray(i, j), wire.subarray(j)]);
  return out;
}

function readAll(chunks: Buffer[]): (string | null)[] {
  const parser = new LineReplies();
  const seen: (string | null)[] = [];
  for (const c of chunks) parser.feed(c, (e) => seen.push(e));
  return seen;
}

describe('encodeCommandPieces: a value given in pieces, never joined', () => {
  const doc = [Buffer.from('{"a":'), Buffer.alloc(0), Buffer.from('"é"'), Buffer.from('}')];
  it.each([
    ['SET key pieces', ['SET', 'massive:chain:latest', doc]],
    ['SET key pieces EX ttl', ['SET', 'k:é', doc, 'EX', '120']],
    ['one empty piece', ['SET', 'k', [Buffer.alloc(0)]]],
  ] as [string, (string | Buffer[])[]][])(
    '%s: the bytes of the command with the pieces joined',
    (_n, args) => {
      const out = encodeCommandPieces(args);
      const joined = args.map((a) => (typeof a === 'string' ? a : Buffer.concat(a)));
      expect(Buffer.concat(out).equals(encodeCommands([joined]))).toBe(true);
      // The pieces themselves are in the list (not copies).
      for (const a of args)
        if (typeof a !== 'string') for (const p of a) if (p.length > 0) expect(out).toContain(p);
    },
  );
});

describe('LineReplies: one-line replies counted however the stream is split', () => {
  const REPLIES: [string, (string | null)[]][] = [
    ['+OK\r\n', [null]],
    [':1\r\n:0\r\n', [null, null]],
    ['-ERR wrong number of arguments\r\n', ['ERR wrong number of arguments']],
    ['+OK\r\n-MOVED 3999 127.0.0.1:7002\r\n:12\r\n+OK\r\n', [null, 'MOVED 3999 127.0.0.1:7002', null, null]],
    [
      "-OOM command not allowed when used memory > 'maxmemory'.\r\n+OK\r\n",
      ["OOM command not allowed when used memory > 'maxmemory'.", null],
    ],
    ['-ERR clé «é» inconnue\r\n:3\r\n', ['ERR clé «é» inconnue', null]],
    ['-\r\n+\r\n', ['', null]],
    // A SET XX whose key is absent answers a null bulk string: one line too.
    ['$-1\r\n+OK\r\n$-1\r\n', [null, null, null]],
  ];

  it.each(REPLIES)('%j at every split', (wire, expected) => {
    for (const chunks of splits(Buffer.from(wire))) expect(readAll(chunks)).toEqual(expected);
  });

  it('waits for the end of a line before counting it', () => {
    const parser = new LineReplies();
    const seen: (string | null)[] = [];
    parser.feed(Buffer.from('+OK\r'), (e) => seen.push(e));
    expect(seen).toEqual([]);
    parser.feed(Buffer.from('\n-ER'), (e) => seen.push(e));
    expect(seen).toEqual([null]);
    parser.feed(Buffer.from('R x\r\n'), (e) => seen.push(e));
    expect(seen).toEqual([null, 'ERR x']);
  });

  it.each([['$5\r\nhello\r\n'], ['$-2\r\n'], ['$-10\r\n'], ['*2\r\n:1\r\n:2\r\n'], ['_\r\n'], ['\r\n']])(
    'refuses a reply that is not one line: %j',
    (wire) => {
      expect(() => readAll([Buffer.from(wire)])).toThrow(ReplyProtocolError);
    },
  );

  it.each([
    // [wire, replies]: XADD's entry id, an empty and a nil bulk, a body holding CR LF, mixed with lines
    ['$15\r\n1764612345678-0\r\n', [null]],
    [':1\r\n$15\r\n1764612345678-0\r\n:0\r\n', [null, null, null]],
    ['$0\r\n\r\n$-1\r\n+OK\r\n', [null, null, null]],
    ['$6\r\na\r\nb\nc\r\n-ERR x\r\n', [null, 'ERR x']],
    ['-WRONGTYPE Operation against a key\r\n$3\r\n1-0\r\n', ['WRONGTYPE Operation against a key', null]],
  ] as [string, (string | null)[]][])('with bulk replies on: %j at every split', (wire, expected) => {
    for (const chunks of splits(Buffer.from(wire))) {
      const parser = new LineReplies(true);
      const seen: (string | null)[] = [];
      for (const c of chunks) parser.feed(c, (e) => seen.push(e));
      expect(seen).toEqual(expected);
    }
  });

  it.each([['$x\r\n'], ['$-2\r\n'], ['$01\r\n'], ['*1\r\n:1\r\n']])(
    'with bulk replies on, still refuses %j',
    (wire) => {
      const parser = new LineReplies(true);
      expect(() => parser.feed(Buffer.from(wire), () => undefined)).toThrow(ReplyProtocolError);
    },
  );

  it('forgets a partial bulk body on reset', () => {
    const parser = new LineReplies(true);
    const seen: (string | null)[] = [];
    parser.feed(Buffer.from('$10\r\nabc'), (e) => seen.push(e));
    parser.reset();
    parser.feed(Buffer.from(':1\r\n'), (e) => seen.push(e));
    expect(seen).toEqual([null]);
  });

  it('forgets a partial line on reset (a new connection)', () => {
    const parser = new LineReplies();
    const seen: (string | null)[] = [];
    parser.feed(Buffer.from('-ERR half'), (e) => seen.push(e));
    parser.reset();
    parser.feed(Buffer.from('+OK\r\n'), (e) => seen.push(e));
    expect(seen).toEqual([null]);
  });
});

describe('BulkCommand builders', () => {
  it('build the one-line-reply commands the bulk writer admits', () => {
    expect(setEx('k', 'v', 300)).toEqual(['SET', 'k', 'v', 'EX', '300']);
    expect(setEx('k', Buffer.from('{}'), '60')).toEqual(['SET', 'k', Buffer.from('{}'), 'EX', '60']);
    expect(del('k')).toEqual(['DEL', 'k']);
    expect(expire('k', 30)).toEqual(['EXPIRE', 'k', '30']);
    const ok: BulkCommand[] = [['PING'], ['SET', 'k', 'v']];
    expect(ok).toHaveLength(2);
    // Commands with multi-line replies do not type-check (npm run typecheck covers this file):
    // @ts-expect-error GET answers with a bulk string
    const get: BulkCommand = ['GET', 'k'];
    // @ts-expect-error SET … GET answers with a bulk string
    const setGet: BulkCommand = ['SET', 'k', 'v', 'GET'];
    // @ts-expect-error MGET answers with an array
    const mget: BulkCommand = ['MGET', 'a', 'b'];
    expect([get, setGet, mget]).toHaveLength(3);
  });
});
