/**
 * The substrate columns the model thread hands to MarketSwarm's outputs: each field as the outputs read it
 * (nulls kept, the mid as `contractMid` gives it), and MarketSwarm's outputs built from the columns are byte
 * for byte those built from the full substrates (the burst chain, two builds in a row; a small chain with
 * missing mids, IVs, gammas and OIs, and a legacy `C`/`P` type).
 */
import { describe, expect, it } from 'vitest';
import { BENCH_WIDTHS, simSubstrates } from '../../bench/sim-chain.js';
import { buildModels } from '../../src/models/build-models.js';
import { ModelThread } from '../../src/models/model-thread.js';
import {
  substrateColumns,
  substratesOfColumns,
  type SubstrateColumns,
} from '../../src/models/substrate-columns.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import {
  buildMarketSwarmFromColumns,
  buildMarketSwarmOutputsFast,
  resetCompatState,
  type CompatResponse,
} from '../../src/outputs/marketswarm/build.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';
import { substrate } from '../models/substrate-fixture.js';

const AS_OF = Date.UTC(2026, 0, 7, 15, 0);
const text = (u: Uint8Array | null): string | null => (u ? Buffer.from(u).toString() : null);
const outputs = (r: CompatResponse): unknown[] => [
  text(r.gexCalls),
  text(r.gexPuts),
  text(r.heatmap),
  r.diffs.map(text),
  r.version,
  r.changed,
  r.removed,
  r.tiles,
];

describe('substrate columns', () => {
  const s = (
    type: 'C' | 'P',
    strike: number,
    v: Partial<ContractSubstrate>,
    root = 'SPXW',
  ): ContractSubstrate => substrate(root, '2026-01-16', type, strike, v, AS_OF);
  it.each([
    [
      'mid given',
      s('C', 6850, { mid: 41.25, bid: 41, ask: 41.5, iv: 0.18, gamma: 0.002, oi: 1200 }),
      {
        type: 'call',
        strike: 6850,
        mid: 41.25,
        iv: 0.18,
        gamma: 0.002,
        oi: 1200,
      },
    ],
    [
      'mid from bid/ask',
      s('P', 6825.5, { mid: null, bid: 2.3, ask: 2.4 }),
      {
        type: 'put',
        strike: 6825.5,
        mid: (2.3 + 2.4) / 2,
        iv: null,
        gamma: null,
        oi: null,
      },
    ],
    [
      'a mid of 0 is none',
      s('P', 6800, { mid: 0, bid: 0, ask: 0.05, oi: 0 }),
      {
        type: 'put',
        strike: 6800,
        mid: null,
        iv: null,
        gamma: null,
        oi: 0,
      },
    ],
    [
      'legacy C type, AM root',
      { ...s('C', 6900, { gamma: 0 }, 'SPX'), type: 'C' as never },
      {
        type: 'call',
        strike: 6900,
        mid: null,
        iv: null,
        gamma: 0,
        oi: null,
      },
    ],
  ])('%s', (_name, contract, want) => {
    const [back] = substratesOfColumns(substrateColumns([contract]));
    expect(back).toEqual({ expiration: '2026-01-16', root: contract.root, bid: null, ask: null, ...want });
  });

  it('expirations and roots are tables: order kept, each once', () => {
    const cs = [s('C', 1, {}, 'SPXW'), s('C', 2, {}, 'SPX'), s('P', 3, {}, 'SPXW')];
    cs[1] = { ...(cs[1] as ContractSubstrate), expiration: '2026-01-09' };
    const cols = substrateColumns(cs);
    expect([cols.expirations, cols.roots]).toEqual([
      ['2026-01-16', '2026-01-09'],
      ['SPXW', 'SPX'],
    ]);
    expect(substratesOfColumns(cols).map((c) => [c.expiration, c.root, c.strike])).toEqual([
      ['2026-01-16', 'SPXW', 1],
      ['2026-01-09', 'SPX', 2],
      ['2026-01-16', 'SPXW', 3],
    ]);
  });

  it.each([
    ['in-process', buildModels],
    ['on the model thread', null],
  ] as const)(
    'the model build hands them over before the models, only when asked (compat): %s',
    async (_n, inline) => {
      const contracts = [s('C', 6850, { mid: 41.25, iv: 0.18, gamma: 0.002, oi: 1200 })];
      const req = {
        symbol: 'SPX',
        epochId: 'SPX:1:a',
        asOf: AS_OF,
        spot: 6850,
        ts: AS_OF,
        stale: false,
        widths: [25],
        windowPct: 5,
      };
      const bytes = (): Uint8Array => new Uint8Array(Buffer.from(JSON.stringify(contracts)));
      const thread = new ModelThread();
      const build = (compat: boolean, onColumns: (c: SubstrateColumns) => void): Promise<unknown> =>
        inline
          ? Promise.resolve(inline({ ...req, substrates: bytes(), compat }, onColumns))
          : thread.build({ ...req, substrates: bytes(), compat }, onColumns);
      try {
        const seen: SubstrateColumns[] = [];
        await build(false, (c) => seen.push(c));
        expect(seen).toEqual([]);
        await build(true, (c) => seen.push(c));
        // Handed before the build answered, once.
        expect(seen.map(substratesOfColumns)).toEqual([substratesOfColumns(substrateColumns(contracts))]);
      } finally {
        await thread.close();
      }
    },
  );

  it('MarketSwarm outputs from the columns are those from the substrates (burst chain, two builds)', () => {
    for (const u of ['SPX', 'NDX']) {
      let version = 1_000;
      for (const t of [AS_OF, AS_OF + 8_000]) {
        const { contracts, spot } = simSubstrates(new SimMarket({ clock: () => t, burst: true }), u, t);
        const input = { asOfMs: t, spot, widths: BENCH_WIDTHS[u] ?? [5], windowPct: 5, tsSec: t / 1000 };
        const req = { symbol: `I:${u}`, versionBase: version, maxDiffBytes: 200_000 };
        resetCompatState();
        const full = buildMarketSwarmOutputsFast(contracts, input, req);
        resetCompatState();
        const cols = buildMarketSwarmFromColumns({ ...input, ...req, columns: substrateColumns(contracts) });
        expect(outputs(cols)).toEqual(outputs(full));
        expect(full.tiles).toBeGreaterThan(5_000);
        version = (full.version ?? version) + 1;
      }
    }
  });

  it('MarketSwarm outputs from the columns: a small chain with missing values', () => {
    const chain = [6800, 6825, 6850, 6852.5, 6875, 6900].flatMap((k, i) => [
      s('C', k, {
        mid: i === 2 ? null : 60 - i * 10,
        bid: i === 2 ? 30 : null,
        ask: i === 2 ? 31 : null,
        iv: 0.2,
        gamma: 0.001 * i,
        oi: 100 * i,
      }),
      s('P', k, {
        mid: i === 4 ? 0 : 10 + i * 9,
        iv: i === 1 ? null : 0.21,
        gamma: i === 3 ? null : 0.002,
        oi: 50,
      }),
    ]);
    const input = { asOfMs: AS_OF, spot: 6850, widths: [25, 50], windowPct: 5, tsSec: AS_OF / 1000 };
    const req = { symbol: 'I:SPX', versionBase: 7, maxDiffBytes: 2_000 };
    resetCompatState();
    const full = buildMarketSwarmOutputsFast(chain, input, req);
    resetCompatState();
    const cols = buildMarketSwarmFromColumns({ ...input, ...req, columns: substrateColumns(chain) });
    expect(outputs(cols)).toEqual(outputs(full));
    expect(full.tiles).toBeGreaterThan(10);
  });
});
