/**
 * Defect 9: an underlying the API does not know (no expirations at all, no underlying value) is an error
 * naming the symbol — a failed, counted cycle that publishes nothing, and exit 6 from `fetch` and
 * `run --once` — while an empty chain on a known underlying stays the valid off-hours case.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { UnknownSymbolError } from '../../src/provider/massive/errors.js';
import { BIN, binaryEnv } from '../support/binary.js';
import { counterValue } from '../support/fault-kit.js';
import { cleanupPrefix, openBus, redisTargets, SINGLE_URL, testPrefix } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

const run = promisify(execFile);
type ExecError = { code: number; stdout: string; stderr: string };

describe.each(redisTargets())('unknown symbols on $name', (target) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it.each(['I:ZZZZ', 'BOGUS'])(
    '%s: the cycle fails naming the symbol, counted, nothing published',
    async (symbol) => {
      h = await startHarness(target);
      const sub = h.bus.duplicate();
      const messages: string[] = [];
      sub.on('message', (_c: string, m: string) => messages.push(m));
      await sub.subscribe(h.keys.snapshotChannel);
      const res = await runCycle(h.deps, symbol, '');
      expect(res).toMatchObject({ ok: false, health: 'failed', contracts: 0, epochId: null });
      expect(res.error).toBeInstanceOf(UnknownSymbolError);
      expect(res.error?.message).toContain(symbol);
      sub.disconnect();
      expect(messages).toEqual([]);
      const u = symbol.replace(/^I:/, '');
      expect(await h.bus.cmd.hget(h.keys.epochActive, u)).toBeNull();
      expect(await h.bus.cmd.hget(h.keys.analytics, 'errors:unknown_symbol')).toBe('1');
      expect(await h.bus.cmd.hget(h.keys.analytics, 'failed_cycles')).toBe('1');
      expect(await h.bus.cmd.hget(h.keys.fetchHealth, 'failed')).toBe('1');
      expect(await counterValue(h.metrics.errors, { kind: 'unknown_symbol' })).toBe(1);
    },
  );

  it('an empty chain on a known underlying is off-hours, not unknown (the index value is still served)', async () => {
    h = await startHarness(target, { sim: { offHours: 'empty' } });
    const res = await runCycle(h.deps, 'I:SPX', '');
    expect(res).toMatchObject({ ok: true, health: 'empty', contracts: 0, promoted: true });
    const meta = await h.bus.cmd.hgetall(h.keys.epochMeta(res.epochId as string));
    expect(Number(meta.spot)).toBeGreaterThan(1000);
    expect(await h.bus.cmd.hget(h.keys.analytics, 'errors:unknown_symbol')).toBeNull();
  });
});

describe('unknown symbols from the binary', () => {
  const prefix = testPrefix();
  afterAll(async () => {
    const bus = await openBus(redisTargets()[0] as ReturnType<typeof redisTargets>[number]);
    await cleanupPrefix(bus, prefix);
    await bus.close();
  });

  it.each([['bogus'], ['I:ZZZZ']])(
    'fetch --symbol %s exits 6 with one stderr line naming it',
    async (symbol) => {
      const err = (await run(BIN, ['fetch', '--symbol', symbol, '--json'], {
        env: binaryEnv({ MARKET_REDIS_URL: SINGLE_URL, LOG_LEVEL: 'warn' }),
        timeout: 30_000,
      }).catch((e: unknown) => e)) as ExecError;
      expect(err.code).toBe(6);
      expect(err.stdout).toBe('');
      const lines = err.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`Unknown symbol ${symbol}`);
    },
  );

  it('run --once with a typo symbol exits 6', async () => {
    const err = (await run(BIN, ['run', '--once', '--no-build'], {
      env: binaryEnv({
        MARKET_REDIS_URL: SINGLE_URL,
        LOG_LEVEL: 'warn',
        CHAIN_KEY_PREFIX: prefix,
        MASSIVE_CHAIN_SYMBOLS: 'I:ZZZZ',
      }),
      timeout: 30_000,
    }).catch((e: unknown) => e)) as ExecError;
    expect(err.code).toBe(6);
    expect(err.stdout + err.stderr).toContain('Unknown symbol I:ZZZZ');
  });
});
