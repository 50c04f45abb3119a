/**
 * Redis connection errors are logged, at a bounded rate: a real bus pointed at a closed port logs its
 * refused connections, one line per window with the count left out.
 */
import { describe, expect, it } from 'vitest';
import { RedisBus } from '../../src/redis/bus.js';
import { rateLimitedErrorLog } from '../../src/redis/error-log.js';
import { freePort } from '../../tools/redis-servers.js';

interface Line {
  obj: Record<string, unknown>;
  msg: string;
}

function sink(): { lines: Line[]; warn(obj: object, msg: string): void } {
  const lines: Line[] = [];
  return { lines, warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) };
}

describe('rateLimitedErrorLog', () => {
  it('logs the first error, then at most one per window with the number left out', () => {
    const s = sink();
    let t = 0;
    const log = rateLimitedErrorLog(s, 'market', 1_000, () => t);
    log(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    for (t = 100; t < 1_000; t += 100) log(new Error('again'));
    t = 1_000;
    log(new Error('Connection is closed.'));
    expect(s.lines).toEqual([
      {
        obj: {
          source: 'market',
          err: 'connect ECONNREFUSED 127.0.0.1:1',
          code: 'ECONNREFUSED',
          suppressed: 0,
        },
        msg: 'Redis connection error',
      },
      {
        obj: { source: 'market', err: 'Connection is closed.', suppressed: 9 },
        msg: 'Redis connection error',
      },
    ]);
  });

  it('a bus that cannot connect logs it (once per window), instead of dropping it', async () => {
    const s = sink();
    const port = await freePort();
    const bus = new RedisBus({
      url: `redis://127.0.0.1:${port}`,
      name: 'down',
      logger: s,
      maxRetriesPerRequest: 0,
    });
    try {
      await expect(bus.cmd.ping()).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 1_000));
      expect(s.lines.length).toBe(1);
      expect(s.lines[0]?.obj).toMatchObject({ source: 'down', code: 'ECONNREFUSED' });
    } finally {
      await bus.close();
    }
  });
});
