/**
 * RedisBus.publishAndAppend on the real server (single and, when configured, cluster): PUBLISHes and XADDs
 * of large payloads arrive in order byte for byte (a subscriber's messages, the stream's entries), the
 * stream is trimmed with `MAXLEN ~`, an error reply fails the call, and the connection goes on counting
 * replies correctly after it.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BulkWriteError, type LargeMessage } from '../../src/redis/bus.js';
import { cleanupPrefix, openBus, redisTargets, testPrefix, type TestBus } from '../support/redis.js';

/** A payload of `n` bytes holding CR, LF, non-ASCII and every byte value. */
const payload = (n: number, seed: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

describe.each(redisTargets())('RedisBus.publishAndAppend ($name)', (target) => {
  let bus: TestBus | undefined;
  let sub: Redis | undefined;
  let prefix = '';
  afterEach(async () => {
    sub?.disconnect();
    sub = undefined;
    if (bus) {
      await cleanupPrefix(bus, prefix);
      await bus.close();
    }
    bus = undefined;
  });

  it('publishes and appends each payload in order, byte for byte', async () => {
    bus = await openBus(target);
    prefix = testPrefix();
    const channel = `${prefix}diff:{I:SPX}`;
    const stream = `${prefix}replay:{I:SPX}`;
    const received: Buffer[] = [];
    // A subscriber on the single server (cluster PUBLISH reaches every node's subscribers).
    sub = target.cluster ? undefined : new Redis(target.url);
    if (sub) {
      await sub.subscribe(channel);
      sub.on('messageBuffer', (_c: Buffer, m: Buffer) => received.push(m));
    }
    const sizes = [0, 1, 700, 600 * 1024, 3, 512 * 1024];
    const payloads = sizes.map((n, i) => payload(n, i));
    const cmds = payloads.flatMap((p): LargeMessage[] => [
      { kind: 'publish', channel, payload: p },
      { kind: 'xadd', stream, maxLen: 1_000, field: 'payload', payload: p },
    ]);
    await bus.publishAndAppend(cmds);
    const entries = (await bus.conn.xrangeBuffer(stream, '-', '+')).map(([, f]) => f);
    expect(entries).toHaveLength(payloads.length);
    entries.forEach((f, i) => {
      expect(f.map(String)[0]).toBe('payload');
      expect((f[1] as Buffer).equals(payloads[i] as Buffer)).toBe(true);
    });
    if (sub) {
      for (let t = 0; t < 100 && received.length < payloads.length; t++)
        await new Promise((r) => setTimeout(r, 20));
      expect(received.map((m) => m.length)).toEqual(sizes);
      received.forEach((m, i) => expect(m.equals(payloads[i] as Buffer)).toBe(true));
    }
  });

  it('trims the stream to about maxLen', async () => {
    bus = await openBus(target);
    prefix = testPrefix();
    const stream = `${prefix}replay:{I:NDX}`;
    const cmds = Array.from({ length: 600 }, (_, i): LargeMessage => ({
      kind: 'xadd',
      stream,
      maxLen: 50,
      field: 'payload',
      payload: payload(40, i),
    }));
    await bus.publishAndAppend(cmds);
    const len = await bus.conn.xlen(stream);
    // `~`: whole nodes are dropped, so at least 50 and fewer than the 600 sent.
    expect(len).toBeGreaterThanOrEqual(50);
    expect(len).toBeLessThan(300);
    const last = await bus.conn.xrevrangeBuffer(stream, '+', '-', 'COUNT', 1);
    expect((last[0]?.[1][1] as Buffer).equals(payload(40, 599))).toBe(true);
  });

  it('fails on an error reply, and the next call is counted right', async () => {
    bus = await openBus(target);
    prefix = testPrefix();
    const stream = `${prefix}replay:{x}`;
    const wrong = `${prefix}string:{x}`;
    await bus.conn.set(wrong, 'not a stream');
    await expect(
      bus.publishAndAppend([
        { kind: 'xadd', stream, maxLen: 10, field: 'payload', payload: payload(10, 1) },
        { kind: 'xadd', stream: wrong, maxLen: 10, field: 'payload', payload: payload(10, 2) },
        { kind: 'publish', channel: `${prefix}c`, payload: payload(10, 3) },
      ]),
    ).rejects.toThrow(target.cluster ? /WRONGTYPE/ : BulkWriteError);
    await bus.publishAndAppend([
      { kind: 'xadd', stream, maxLen: 10, field: 'payload', payload: payload(20, 4) },
    ]);
    const all = await bus.conn.xrangeBuffer(stream, '-', '+');
    expect(all.map(([, f]) => (f[1] as Buffer).length)).toEqual([10, 20]);
  });
});
