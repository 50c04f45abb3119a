/**
 * The bulk writer (raw-pipeline.ts) on real sockets: replies counted across chunks against the real
 * Redis, errors reported at their command's index, replies that arrive a byte at a time, and a reply it
 * cannot count (a bulk string) failing the batch instead of desynchronising it; two batches in a row, the
 * second sent while the first's replies are still coming, each counted against its own batch.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RawPipeline } from '../../src/redis/raw-pipeline.js';
import { parseRedisUrl } from '../../src/redis/redis-url.js';
import { del, encodeCommands, expire, setEx, type BulkCommand } from '../../src/redis/resp.js';
import { cleanupPrefix, SINGLE_URL, testPrefix, TestBus } from '../support/redis.js';
import { turnCounter } from '../support/turns.js';

let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A bus and a bulk writer on the real Redis under a prefix of their own, closed and cleaned afterwards. */
async function onRealRedis(
  test: (ctx: { bus: TestBus; prefix: string; pipe: RawPipeline }) => Promise<void>,
): Promise<void> {
  const bus = new TestBus({ url: SINGLE_URL });
  await bus.ready();
  const prefix = testPrefix();
  const pipe = new RawPipeline(parseRedisUrl(SINGLE_URL));
  try {
    await test({ bus, prefix, pipe });
  } finally {
    pipe.close();
    await cleanupPrefix(bus, prefix);
    await bus.close();
  }
}

/** A fake Redis answering every command (counted by its `*` header line) with `reply()`, sent by `write`. */
async function fakeRedis(
  reply: () => string,
  write: (s: Socket, bytes: Buffer) => void = (s, b) => s.write(b),
): Promise<number> {
  server = createServer((s) => {
    sockets.push(s);
    let carry = '';
    s.on('data', (d: Buffer) => {
      const text = carry + d.toString('latin1');
      const lines = text.split('\r\n');
      carry = lines.pop() ?? '';
      const commands = lines.filter((l) => l.startsWith('*')).length;
      if (commands > 0) write(s, Buffer.from(reply().repeat(commands)));
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

describe('bulk writer', () => {
  it('counts 2,500 replies across chunks on the real Redis, errors at their index', () =>
    onRealRedis(async ({ bus, prefix, pipe }) => {
      const cmds: BulkCommand[] = [];
      for (let i = 0; i < 1_000; i++) cmds.push(setEx(`${prefix}k${i}`, `v${i}`, 300));
      for (let i = 0; i < 1_000; i++) cmds.push(expire(`${prefix}k${i}`, 120));
      cmds.push(['EXPIRE', `${prefix}k0`, 'not-a-number']); // index 2000: an error line
      for (let i = 0; i < 498; i++) cmds.push(del(`${prefix}k${i}`));
      cmds.push(['SET', `${prefix}k999`, 'x', 'EX', '-5']); // index 2499: an error line
      const outcome = await pipe.run(cmds);
      expect(outcome.replies).toBe(2_500);
      expect([...outcome.errors.keys()]).toEqual([2_000, 2_499]);
      expect(outcome.errors.get(2_000)).toMatch(/^ERR value is not an integer/);
      expect(outcome.errors.get(2_499)).toMatch(/^ERR invalid expire time/);
      expect(await bus.conn.exists(`${prefix}k0`, `${prefix}k497`)).toBe(0);
      expect(await bus.conn.get(`${prefix}k998`)).toBe('v998');
      const ttl = await bus.conn.ttl(`${prefix}k998`);
      expect(ttl).toBeGreaterThan(100);
      expect(ttl).toBeLessThanOrEqual(120);
    }));

  it('sends the next batch as soon as the previous one is sent, before its replies are in (the two symbols of a cycle)', () =>
    onRealRedis(async ({ bus, prefix, pipe }) => {
      const value = 'v'.repeat(100);
      const first: BulkCommand[] = [];
      for (let i = 0; i < 20_000; i++) first.push(setEx(`${prefix}a${i}`, value, 300));
      first.push(['SET', `${prefix}a0`, 'x', 'EX', '-5']); // index 20,000: an error line
      const second: BulkCommand[] = [
        setEx(`${prefix}b0`, 'w', 120),
        ['EXPIRE', `${prefix}b0`, 'not-a-number'], // index 1: an error line
        setEx(`${prefix}b2`, 'w', 120),
      ];
      const order: string[] = [];
      const a = pipe
        .runEncoded({
          commands: first.length,
          [Symbol.iterator]: () => [encodeCommands(first)][Symbol.iterator](),
        })
        .then((o) => (order.push('first: all replies'), o));
      const b = pipe
        .runEncoded({
          commands: second.length,
          *[Symbol.iterator]() {
            order.push('second: sending');
            yield encodeCommands(second);
          },
        })
        .then((o) => (order.push('second: all replies'), o));
      const [oa, ob] = await Promise.all([a, b]);
      // Redis takes milliseconds to execute 20,000 SETs: the second batch was on its way meanwhile.
      expect(order).toEqual(['second: sending', 'first: all replies', 'second: all replies']);
      expect(oa.replies).toBe(20_001);
      expect([...oa.errors.keys()]).toEqual([20_000]);
      expect(oa.errors.get(20_000)).toMatch(/^ERR invalid expire time/);
      expect(ob.replies).toBe(3);
      expect([...ob.errors.keys()]).toEqual([1]);
      expect(ob.errors.get(1)).toMatch(/^ERR value is not an integer/);
      expect(await bus.conn.get(`${prefix}a19999`)).toBe(value);
      expect(await bus.conn.ttl(`${prefix}b2`)).toBeGreaterThan(100);
    }));

  it('waits for a chunk still being made (a promise) before the next batch, on the real Redis', () =>
    onRealRedis(async ({ bus, prefix, pipe }) => {
      let finish = (_: Buffer): void => undefined;
      const last = new Promise<Buffer>((resolve) => (finish = resolve));
      const order: string[] = [];
      const a = pipe
        .runEncoded({
          commands: 3,
          [Symbol.iterator]: () =>
            [encodeCommands([setEx(`${prefix}k`, 'first', 300), setEx(`${prefix}a`, '1', 300)]), last][
              Symbol.iterator
            ](),
        })
        .then((o) => (order.push('first: all replies'), o));
      const b = pipe
        .runEncoded({
          commands: 1,
          *[Symbol.iterator]() {
            order.push('second: sending');
            yield encodeCommands([setEx(`${prefix}k`, 'second', 300)]);
          },
        })
        .then((o) => (order.push('second: all replies'), o));
      await new Promise((r) => setTimeout(r, 50));
      // The first batch's bytes are not all out: the second batch has not started.
      expect(order).toEqual([]);
      expect(await bus.conn.get(`${prefix}a`)).toBe('1');
      order.push('last chunk made');
      finish(encodeCommands([setEx(`${prefix}k`, 'last of first', 300)]));
      const [oa, ob] = await Promise.all([a, b]);
      expect(order).toEqual([
        'last chunk made',
        'second: sending',
        'first: all replies',
        'second: all replies',
      ]);
      expect(oa.replies).toBe(3);
      expect(ob.replies).toBe(1);
      // Redis executed them in the order sent: the second batch's SET last.
      expect(await bus.conn.get(`${prefix}k`)).toBe('second');
    }));

  it('writes chunks the kernel takes at once in the same turn, so Redis is not held to one chunk per turn', () =>
    onRealRedis(async ({ bus, prefix, pipe }) => {
      const value = 'v'.repeat(64 * 1024);
      // A first batch grows the connection's socket buffers, as a running worker's are.
      const warm = Array.from({ length: 32 }, (_, i) => setEx(`${prefix}w${i}`, value, 60));
      expect((await pipe.run(warm)).replies).toBe(32);
      // Turns of the event loop, counted while the writer pulls 16 chunks of 64 KB (1 MiB in all).
      const counter = turnCounter();
      const pulledAt: number[] = [];
      const outcome = await pipe.runEncoded({
        commands: 16,
        *[Symbol.iterator]() {
          for (let i = 0; i < 16; i++) {
            pulledAt.push(counter.turns);
            yield encodeCommands([setEx(`${prefix}k${i}`, value, 120)]);
          }
        },
      });
      counter.stop();
      expect(outcome.replies).toBe(16);
      expect(outcome.errors.size).toBe(0);
      // One chunk per turn pulled them in 16 turns. Within a turn's budget (TURN_BYTES, TURN_MS) they
      // take one or two: a 64 KB write to a local socket takes microseconds. The budget is wall-clock
      // time, so a thread preempted mid-turn spends it sooner: 10 turns were seen once with the whole
      // suite running beside it. Fewer than 16 is what tells the budget from one chunk per turn.
      expect(new Set(pulledAt).size).toBeLessThan(16);
      expect(await bus.conn.strlen(`${prefix}k15`)).toBe(64 * 1024);
      const ttl = await bus.conn.ttl(`${prefix}k15`);
      expect(ttl).toBeGreaterThan(100);
      expect(ttl).toBeLessThanOrEqual(120);
    }));

  it('waits for the socket to drain when the server stops reading, and sends the rest once it reads again', async () => {
    let paused: Socket | undefined;
    const port = await fakeRedis(() => '+OK\r\n');
    server?.on('connection', (s: Socket) => {
      s.pause();
      paused = s;
    });
    const pipe = new RawPipeline({ host: '127.0.0.1', port, db: 0, tls: false });
    const chunk = encodeCommands([setEx('k', 'v'.repeat(256 * 1024), 60)]);
    let pulled = 0;
    try {
      const done = pipe.runEncoded({
        commands: 64,
        *[Symbol.iterator]() {
          for (let i = 0; i < 64; i++) {
            pulled++;
            yield chunk;
          }
        },
      });
      await new Promise((r) => setTimeout(r, 200));
      // 16 MB would be all queued in this process; the writer stopped once the kernel's buffers were full.
      expect(pulled).toBeGreaterThan(0);
      expect(pulled).toBeLessThan(64);
      paused?.resume();
      const outcome = await done;
      expect(pulled).toBe(64);
      expect(outcome.replies).toBe(64);
    } finally {
      pipe.close();
    }
  });

  it('fails the batch when a promised chunk is rejected, then works on a new connection', () =>
    onRealRedis(async ({ bus, prefix, pipe }) => {
      const bad = Promise.reject(new Error('compression failed'));
      bad.catch(() => undefined); // awaited by the writer later, as the cycle's index is
      const failed = pipe.runEncoded({
        commands: 2,
        [Symbol.iterator]: () => [encodeCommands([setEx(`${prefix}a`, '1', 300)]), bad][Symbol.iterator](),
      });
      await expect(failed).rejects.toThrow(/redis bulk connection closed/);
      const outcome = await pipe.runEncoded({
        commands: 1,
        [Symbol.iterator]: () => [encodeCommands([setEx(`${prefix}b`, '2', 300)])][Symbol.iterator](),
      });
      expect(outcome.replies).toBe(1);
      expect(await bus.conn.get(`${prefix}b`)).toBe('2');
    }));

  it('counts replies that arrive one byte at a time', async () => {
    const port = await fakeRedis(
      () => '+OK\r\n',
      (s, bytes) => {
        let i = 0;
        const next = (): void => {
          if (i >= bytes.length || s.destroyed) return;
          s.write(bytes.subarray(i, i + 1));
          i++;
          setImmediate(next);
        };
        next();
      },
    );
    const pipe = new RawPipeline({ host: '127.0.0.1', port, db: 0, tls: false });
    try {
      const outcome = await pipe.run([setEx('a', 'b', 1), del('a'), expire('a', 1)]);
      expect(outcome.replies).toBe(3);
      expect(outcome.errors.size).toBe(0);
    } finally {
      pipe.close();
    }
  });

  it('fails the batch on a reply it cannot count, then works on a new connection', async () => {
    let bulkReplies = true;
    const port = await fakeRedis(() => (bulkReplies ? '$1\r\nx\r\n' : '+OK\r\n'));
    const pipe = new RawPipeline({ host: '127.0.0.1', port, db: 0, tls: false });
    try {
      await expect(pipe.run([setEx('a', 'b', 1)])).rejects.toThrow(/unexpected reply line starting "\$"/);
      bulkReplies = false;
      const outcome = await pipe.run([setEx('a', 'b', 1)]);
      expect(outcome.replies).toBe(1);
    } finally {
      pipe.close();
    }
  });
});
