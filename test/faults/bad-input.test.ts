/**
 * Bad input everywhere: a malformed config file (not JSON, unknown setting, unknown key, bad value) stops
 * the real binary with exit 2 naming the problem and touching nothing; a recording mixing good contracts
 * with malformed ones and absurd values is served through the local API, and every bad contract is
 * skipped and counted while every good one is still written.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { formatOptionTicker, parseOptionTicker } from '../../src/provider/massive/ticker.js';
import type { RawContract } from '../../src/provider/massive/types.js';
import { ReplayDataset } from '../../src/provider/replay/replay-dataset.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { snapshotKeyOf } from '../../src/wiring/snapshot-writes.js';
import { counterValue } from '../support/fault-kit.js';
import { cleanupPrefix, openBus, redisTargets, testPrefix } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { BIN, binaryEnv } from '../support/binary.js';
import { readIndex } from '../support/contract-index.js';

const run = promisify(execFile);
const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];
const dir = mkdtempSync(join(tmpdir(), 'cw-bad-input-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('malformed config file', () => {
  const prefix = testPrefix();
  afterAll(async () => {
    const bus = await openBus(single);
    await cleanupPrefix(bus, prefix);
    await bus.close();
  });

  /** The environment wins over the file, so the bus URL is only set here when the file does not test it. */
  function env(file: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return binaryEnv({
      ...(file.includes('market-redis') ? {} : { MARKET_REDIS_URL: single.url }),
      CHAIN_KEY_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      ...extra,
    });
  }

  it.each([
    [
      'not JSON',
      '{"settings": {"MASSIVE_CHAIN_SYMBOLS": "I:SPX",}',
      /--config \/ CHAIN_WORKER_CONFIG: expected valid JSON \(got .*not-JSON\.json\)/,
    ],
    [
      'an unknown setting',
      '{"settings": {"MASSIVE_CHAIN_SYMBOLZ": "I:SPX"}}',
      /config file settings\.MASSIVE_CHAIN_SYMBOLZ: unknown setting/,
    ],
    ['an unknown top-level key', '{"settingz": {}}', /config file .*settingz/],
    [
      'a bad value',
      '{"settings": {"MASSIVE_CHAIN_INTERVAL_SEC": "soon"}}',
      /MASSIVE_CHAIN_INTERVAL_SEC: .*\(got "soon"\)/,
    ],
    [
      'a bad bus URL',
      '{"buses": {"market-redis": {"url": "localhost:6379"}}}',
      /MARKET_REDIS_URL: expected redis:\/\/ .*\(got "localhost:6379"\)/,
    ],
    ['an empty file', '', /expected valid JSON/],
  ])('%s: exit 2, the message names it, nothing written', async (name, text, re) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, text);
    for (const how of ['flag', 'env'] as const) {
      const args = how === 'flag' ? ['--config', file, 'run', '--once'] : ['run', '--once'];
      const extra: Record<string, string> = how === 'env' ? { CHAIN_WORKER_CONFIG: file } : {};
      const err = (await run(BIN, args, { env: env(text, extra), timeout: 20_000 }).catch(
        (e: unknown) => e,
      )) as {
        code: number;
        stderr: string;
        stdout: string;
      };
      expect(err.code).toBe(2);
      expect(err.stderr).toMatch(re);
      expect(err.stderr.trim().split('\n')).toHaveLength(1); // one line, no stack trace
    }
    const bus = await openBus(single);
    try {
      const [, keys] = await bus.conn.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 1000);
      expect(keys).toEqual([]);
    } finally {
      await bus.close();
    }
  });
});

const NOW = Date.UTC(2026, 0, 7, 15, 0); // Wednesday 10:00 New York

/** A deep copy of a contract with a new identity (ticker and strike), so it is not a duplicate. */
function variant(c: RawContract, strike: number, patch: (x: RawContract) => void): RawContract {
  const x = JSON.parse(JSON.stringify(c)) as RawContract;
  const p = parseOptionTicker(x.details?.ticker as string);
  if (!p) throw new Error('bad fixture');
  x.details = { ...x.details, ticker: formatOptionTicker({ ...p, strike }), strike_price: strike };
  patch(x);
  return x;
}

describe('malformed contracts and absurd values through a replay recording', () => {
  let h: Harness | undefined;
  let builder: ModelBuilder | undefined;
  afterEach(async () => {
    await builder?.stop();
    builder = undefined;
    await h?.close();
    h = undefined;
  });

  it('skips and counts every bad contract (analytics, metric, per reason); every good one is written', async () => {
    const sim = new SimMarket({ seed: 11, contractsPerExpiration: 24, clock: () => NOW });
    const exps = sim.expirations('I:SPX', NOW).slice(0, 2);
    const chains = exps.map((e) => sim.chain('I:SPX', NOW, e));
    const asset = chains[0]?.underlyingAsset as NonNullable<RawContract['underlying_asset']>;
    const good: RawContract[] = chains
      .flatMap((c) => c?.results ?? [])
      .map((c) => JSON.parse(JSON.stringify(c)) as RawContract);
    const base = good.find(
      (c) => c.details?.ticker?.startsWith('O:SPXW') && typeof c.greeks?.gamma === 'number',
    ) as RawContract;
    const bp = parseOptionTicker(base.details?.ticker as string);
    expect(bp).not.toBeNull();
    // A strike no good contract uses, per bad contract.
    let k = 0;
    const odd = (): number => 90_000 + 5 * ++k;

    // NaN cannot cross JSON: it arrives as null, i.e. "no gamma": written, with gamma null (never 0).
    const nanGamma = variant(base, odd(), (x) => ((x.greeks as Record<string, unknown>).gamma = NaN));
    const bad: [string, RawContract][] = [
      ['no_ticker', variant(base, odd(), (x) => delete x.details?.ticker)],
      [
        'bad_ticker',
        variant(base, odd(), (x) => ((x.details as Record<string, unknown>).ticker = 'O:SPXW-not-a-ticker')),
      ],
      [
        'bad_strike',
        variant(
          base,
          odd(),
          (x) =>
            ((x.details as Record<string, unknown>).strike_price = -Math.abs(x.details?.strike_price ?? 1)),
        ),
      ],
      [
        'bad_ticker',
        variant(
          base,
          odd(),
          (x) => ((x.details as Record<string, unknown>).contract_type = bp?.type === 'C' ? 'put' : 'call'),
        ),
      ],
      [
        'unknown_type',
        variant(base, odd(), (x) => ((x.details as Record<string, unknown>).contract_type = 'straddle')),
      ],
      ['bad_number', variant(base, odd(), (x) => ((x.greeks as Record<string, unknown>).delta = 'NaN'))],
      ['bad_number', variant(base, odd(), (x) => ((x.greeks as Record<string, unknown>).vega = '0.2'))],
      ['bad_number', variant(base, odd(), (x) => (x.implied_volatility = 'high' as unknown as number))],
      ['absurd_oi', variant(base, odd(), (x) => (x.open_interest = 5e9))],
      ['absurd_oi', variant(base, odd(), (x) => (x.open_interest = -3))],
      ['absurd_greek', variant(base, odd(), (x) => ((x.greeks as Record<string, unknown>).delta = 7))],
      ['absurd_greek', variant(base, odd(), (x) => ((x.greeks as Record<string, unknown>).gamma = -0.5))],
      ['negative_price', variant(base, odd(), (x) => ((x.last_quote as Record<string, unknown>).bid = -1.5))],
      [
        'crossed_quote',
        variant(
          base,
          odd(),
          (x) => (x.last_quote = { ...x.last_quote, bid: 12.5, ask: 11, midpoint: 11.75 }),
        ),
      ],
      ['duplicate', JSON.parse(JSON.stringify({ ...base, open_interest: 1 })) as RawContract],
    ];
    const dataset = new ReplayDataset({
      recorded_at: new Date(NOW).toISOString(),
      underlyings: {
        'I:SPX': { underlying_asset: asset, results: [...good, nanGamma, ...bad.map(([, c]) => c)] },
      },
    });
    h = await startHarness(single, { dataset });
    const res = await runCycle(h.deps, 'I:SPX', '');
    const goodCount = good.length + 1; // the NaN-gamma contract is usable (no gamma)
    expect(res).toMatchObject({ ok: true, promoted: true, contracts: goodCount });

    // Counted: analytics total, the latest entry's parse skips, the metric per reason.
    expect(await h.bus.cmd.hget(h.keys.analytics, 'skipped_contracts')).toBe(String(bad.length));
    const reasons: Record<string, number> = {};
    for (const [reason] of bad) reasons[reason] = (reasons[reason] ?? 0) + 1;
    for (const [reason, n] of Object.entries(reasons)) {
      expect(await counterValue(h.metrics.skipped, { symbol: 'SPX', reason }), reason).toBe(n);
    }
    const { values } = await h.metrics.skipped.get();
    expect(values.reduce((n, v) => n + v.value, 0)).toBe(bad.length);

    // Written: the index holds exactly the good tickers, each with its substrate and raw snapshot key.
    const id = res.epochId as string;
    const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(id));
    const expected = [...good, nanGamma].map((c) => c.details?.ticker as string);
    expect([...ids].sort()).toEqual([...expected].sort());
    const subs = (await h.bus.getMany(ids.map((c) => h?.keys.epochContract(id, c) as string))).map(
      (s) => JSON.parse(s as string) as ContractSubstrate,
    );
    expect(subs).toHaveLength(goodCount);
    const raws = await h.bus.getMany(
      subs.map((s) => {
        // The substrate spells the type out (`call`); the raw key keeps the ticker's letter.
        expect(s.type).toBe(s.id.slice(-9, -8) === 'C' ? 'call' : 'put');
        return snapshotKeyOf(
          h?.keys as Harness['keys'],
          'SPX',
          parseOptionTicker(s.id) as NonNullable<ReturnType<typeof parseOptionTicker>>,
        );
      }),
    );
    expect(raws.filter((r) => r === null)).toHaveLength(0);
    const byId = new Map(subs.map((s) => [s.id, s]));
    expect(byId.get(nanGamma.details?.ticker as string)?.gamma).toBeNull();
    // The duplicate did not overwrite the good contract it copied.
    expect(byId.get(base.details?.ticker as string)?.oi).toBe(base.open_interest);
    // No bad contract left a raw snapshot key behind.
    for (const [, c] of bad) {
      const p = parseOptionTicker(c.details?.ticker ?? '');
      if (!p || c === bad[bad.length - 1]?.[1]) continue;
      expect(await h.bus.cmd.exists(snapshotKeyOf(h.keys, 'SPX', p))).toBe(0);
    }
    expect(await h.bus.cmd.hget(h.keys.epochMeta(id), 'contract_count')).toBe(String(goodCount));

    // The models build from the good contracts.
    builder = new ModelBuilder({ ...h, owner: 'b-bad' });
    const outcomes = await builder.drain();
    expect(outcomes).toEqual([
      expect.objectContaining({ epochId: id, status: 'built', contracts: goodCount }),
    ]);
    const gex = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as {
      contract_count: number;
    };
    expect(gex.contract_count).toBe(goodCount);
  });
});
