/**
 * `chain-worker events` as an operator runs it (the built binary): every event oldest first, `--since`
 * resumes with none lost and none repeated, `--symbol`, `--json`, `--follow` until SIGTERM; and the
 * `shutdown` event a real `chain-worker run` writes on SIGTERM, with its reason.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/lib/logger.js';
import { EventsOutput } from '../../src/outputs/events/writer.js';
import { KeySchema } from '../../src/redis/keys.js';
import { BIN, binaryEnv } from '../support/binary.js';
import { cleanupPrefix, openBus, redisTargets, testPrefix } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';

const run = promisify(execFile);
const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];
const prefixes: string[] = [];

function env(prefix: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return binaryEnv({ MARKET_REDIS_URL: single.url, LOG_LEVEL: 'warn', CHAIN_KEY_PREFIX: prefix, ...extra });
}

afterAll(async () => {
  const bus = await openBus(single);
  for (const p of prefixes) await cleanupPrefix(bus, p);
  await bus.close();
});

interface Line {
  id: string;
  type: string;
  symbol: string | null;
}

async function events(prefix: string, args: string[]): Promise<Line[]> {
  const { stdout } = await run(BIN, ['events', '--json', ...args], { env: env(prefix), timeout: 30_000 });
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

describe('chain-worker events', () => {
  it('prints every event; --since resumes exactly; --symbol; text lines; --follow until SIGTERM', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const bus = await openBus(single);
    const keys = new KeySchema(prefix);
    const out = new EventsOutput(
      bus,
      keys,
      {
        eventsMaxLen: 1000,
        eventsZeroGammaBandPct: 0.1,
        eventsRegimeBandPct: 5,
        eventsWallConfirmBuilds: 2,
      },
      silentLogger(),
    );
    let n = 0;
    const health = (symbol: string): Promise<string> =>
      out.emit({
        type: 'health_changed',
        symbol,
        epoch_id: null,
        ts: Date.now() / 1000,
        from: `s${++n}`,
        to: 'ok',
      });
    try {
      const ids: string[] = [];
      for (const s of ['SPX', 'NDX', 'SPX', 'NDX', 'SPX']) ids.push(await health(s));
      ids.push(
        await out.emit({
          type: 'shutdown',
          symbol: null,
          epoch_id: null,
          ts: Date.now() / 1000,
          worker: 'w1',
          status: 'stopped',
          reason: 'signal SIGTERM',
          symbols: [{ symbol: 'SPX', epoch_id: null }],
        }),
      );
      const all = await events(prefix, []);
      expect(all.map((e) => e.id)).toEqual(ids);
      expect(all.map((e) => e.type)).toEqual([...Array<string>(5).fill('health_changed'), 'shutdown']);
      // --since: exactly the ones after the id, so a reader that stopped there loses none, repeats none.
      expect((await events(prefix, ['--since', ids[2] as string])).map((e) => e.id)).toEqual(ids.slice(3));
      expect(await events(prefix, ['--since', ids[5] as string])).toEqual([]);
      // --symbol: that symbol and worker-wide events.
      expect((await events(prefix, ['--symbol', 'I:NDX'])).map((e) => e.id)).toEqual([
        ids[1],
        ids[3],
        ids[5],
      ]);
      // Text: one line per event, its id first.
      const { stdout } = await run(BIN, ['events', '--symbol', 'SPX'], { env: env(prefix), timeout: 30_000 });
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(
        new RegExp(`^${ids[0]}  \\d{4}-\\d\\d-\\d\\dT[^ ]+Z  health_changed +SPX +s1 → ok$`),
      );
      expect(lines[3]).toContain('shutdown');
      expect(lines[3]).toContain('reason=signal SIGTERM');
      // A bad --since is a usage error naming the flag.
      const bad = (await run(BIN, ['events', '--since', 'yesterday'], { env: env(prefix) }).catch(
        (e: unknown) => e,
      )) as { code: number; stderr: string };
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--since/);

      // --follow from the last id: prints what comes next, stops cleanly on SIGTERM.
      const child = spawn(BIN, ['events', '--follow', '--json', '--since', ids[5] as string], {
        env: env(prefix),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      await new Promise((r) => setTimeout(r, 1_000)); // the child is blocked in XREAD by now
      const more = [await health('SPX'), await health('NDX'), await health('SPX')];
      await waitUntil(() => text.split('\n').filter(Boolean).length >= 3, 15_000, 'followed events');
      const t0 = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5_000);
      const followed = text
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as Line).id);
      expect(followed).toEqual(more);
      // Everything printed by the runs, joined at the --since id, is the stream once.
      expect([...ids, ...followed]).toEqual((await events(prefix, [])).map((e) => e.id));
    } finally {
      await bus.close();
    }
  });

  it('an id of the right shape past what Redis takes (a part over 2^64 - 1) is a usage error', async () => {
    const prefix = testPrefix();
    for (const since of ['99999999999999999999-0', '1-18446744073709551616']) {
      const big = (await run(BIN, ['events', '--since', since], { env: env(prefix) }).catch(
        (e: unknown) => e,
      )) as { code: number; stderr: string };
      expect(big.code).toBe(2);
      expect(big.stderr).toMatch(/--since/);
    }
  });

  it('edge ids: the newest, one newer than the stream, the largest id: nothing printed, exit 0; --follow from a future id follows', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const bus = await openBus(single);
    const keys = new KeySchema(prefix);
    const emit = async (from: string): Promise<string> =>
      (await bus.conn.xadd(
        keys.events,
        '*',
        'payload',
        JSON.stringify({ type: 'health_changed', symbol: 'SPX', epoch_id: null, ts: 1, from, to: 'ok' }),
      )) as string;
    try {
      let newest = await emit('a');
      const max = '18446744073709551615-18446744073709551615';
      for (const since of [newest, '9999999999999-0', '18446744073709551615-0', max]) {
        const r = await run(BIN, ['events', '--since', since], { env: env(prefix), timeout: 30_000 }).catch(
          (e: unknown) => e as { code: number; stdout: string; stderr: string },
        );
        expect({ since, code: 'code' in r ? r.code : 0, stdout: r.stdout, stderr: r.stderr }).toEqual({
          since,
          code: 0,
          stdout: '',
          stderr: '',
        });
      }
      // --follow after an id the stream never issued (newer than its newest entry): it follows from the
      // newest entry, as the SSE server resumes, instead of holding back every event older than that id.
      for (const since of ['9999999999999-0', max]) {
        const child = spawn(BIN, ['events', '--follow', '--json', '--since', since], {
          env: env(prefix),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        let err = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
        child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
        const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
        await waitUntil(() => err.includes('newer than'), 15_000, 'the note on stderr');
        const id = await emit(since);
        await waitUntil(() => text.includes(id), 15_000, 'the followed event');
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        expect(
          text
            .trim()
            .split('\n')
            .map((l) => (JSON.parse(l) as Line).id),
        ).toEqual([id]);
        expect(err).toBe(
          `chain-worker: --since ${since} is newer than the stream's newest entry (${newest}): following from there\n`,
        );
        newest = id;
      }
    } finally {
      await bus.close();
    }
  }, 60_000);

  it('an entry that is not an event does not end the listing: every event after it is printed', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const bus = await openBus(single);
    const keys = new KeySchema(prefix);
    try {
      // Another writer's entry (no JSON payload) in the first page, then 1,100 events: more than one page
      // (1,000) of entries.
      await bus.conn.xadd(keys.events, '*', 'payload', 'not json');
      const pipe = bus.conn.pipeline();
      for (let i = 0; i < 1_100; i++)
        pipe.xadd(
          keys.events,
          '*',
          'payload',
          JSON.stringify({
            type: 'health_changed',
            symbol: 'SPX',
            epoch_id: null,
            ts: Date.now() / 1000,
            from: `s${i}`,
            to: 'ok',
          }),
        );
      const ids = ((await pipe.exec()) ?? []).map(([, id]) => id as string);
      expect(ids).toHaveLength(1_100);
      expect((await events(prefix, [])).map((e) => e.id)).toEqual(ids);
    } finally {
      await bus.close();
    }
  });

  it('chain-worker run writes a shutdown event with the reason on SIGTERM', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const child = spawn(BIN, ['run'], {
      env: env(prefix, { MASSIVE_CHAIN_INTERVAL_SEC: '0.5', MASSIVE_CHAIN_SYMBOLS: 'I:SPX' }),
      stdio: 'ignore',
    });
    const bus = await openBus(single);
    const keys = new KeySchema(prefix);
    try {
      await waitUntil(async () => (await bus.cmd.hget(keys.epochActive, 'SPX')) !== null, 20_000, 'an epoch');
      const epoch = await bus.cmd.hget(keys.epochActive, 'SPX');
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const all = await events(prefix, []);
      expect(all[0]).toMatchObject({
        type: 'epoch_promoted',
        symbol: 'SPX',
        epoch_id: epoch,
        reason: 'first',
      });
      expect(all.at(-1)).toMatchObject({
        type: 'shutdown',
        symbol: null,
        status: 'stopped',
        reason: 'signal SIGTERM',
        symbols: [{ symbol: 'SPX', epoch_id: epoch }],
      });
      expect(all.filter((e) => e.type === 'shutdown')).toHaveLength(1);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await bus.close();
    }
  });
});
