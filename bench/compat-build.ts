/**
 * @module `node dist/bench/compat-build.js`: on the burst chain (SPX + NDX, ~20,000 contracts), interleaved
 * in one process so the machine's load hits all alike: our two models (the model thread's work), MarketSwarm's
 * outputs as they are built (the model thread's substrate columns from the contracts it parsed, then the
 * compat thread's build from them, tiles as bytes), and the same with the tiles as text (the reference path). Every build diffs against nothing (every tile sent: the worst case).
 * Prints medians and minimums (ms) and the load average.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { buildModelsFrom } from '../src/models/build-models.js';
import { substrateColumns } from '../src/models/substrate-columns.js';
import {
  buildMarketSwarmFromColumns,
  buildMarketSwarmOutputs,
  resetCompatState,
} from '../src/outputs/marketswarm/build.js';
import { SimMarket } from '../src/provider/sim/sim-market.js';
import { BENCH_WIDTHS, simSubstrates } from './sim-chain.js';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '10' }, json: { type: 'boolean', default: false } },
});
const runs = Number(args.runs);
const now = Date.parse('2026-01-07T15:00:00Z');
const market = new SimMarket({ clock: () => now, burst: true });
const inputs = ['SPX', 'NDX'].map((u) => ({ u, ...simSubstrates(market, u, now) }));

function ours(): void {
  for (const i of inputs)
    buildModelsFrom(i.contracts, {
      symbol: i.u,
      epochId: 'bench',
      asOf: now,
      spot: i.spot,
      ts: now,
      stale: false,
      widths: BENCH_WIDTHS[i.u] ?? [5],
      windowPct: 5,
    });
}
let version = 1;
function compat(): void {
  inputs.forEach((i) =>
    buildMarketSwarmFromColumns({
      columns: substrateColumns(i.contracts),
      asOfMs: now,
      spot: i.spot,
      widths: BENCH_WIDTHS[i.u] ?? [5],
      windowPct: 5,
      tsSec: now / 1000,
      symbol: `I:${i.u}`,
      versionBase: version++,
    }),
  );
  resetCompatState();
}
function compatText(): void {
  for (const i of inputs)
    buildMarketSwarmOutputs(
      i.contracts,
      { asOfMs: now, spot: i.spot, widths: BENCH_WIDTHS[i.u] ?? [5], windowPct: 5, tsSec: now / 1000 },
      { symbol: `I:${i.u}`, versionBase: version++ },
    );
  resetCompatState(); // every build diffs against nothing: the worst case (every tile sent)
}
const time = (fn: () => void): number => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};
for (let r = 0; r < 2; r++) {
  ours();
  compat();
  compatText();
}
const a: number[] = [];
const b: number[] = [];
const c: number[] = [];
for (let r = 0; r < runs; r++) {
  a.push(time(ours));
  b.push(time(compat));
  c.push(time(compatText));
}
const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
const out = {
  contracts: inputs.reduce((n, i) => n + i.contracts.length, 0),
  ours_ms: { median: Math.round(med(a)), min: Math.round(Math.min(...a)) },
  compat_ms: { median: Math.round(med(b)), min: Math.round(Math.min(...b)) },
  compat_text_ms: { median: Math.round(med(c)), min: Math.round(Math.min(...c)) },
  compat_pct_of_ours: Math.round((100 * med(b)) / med(a)),
  load: loadavg().map((x) => Math.round(x * 10) / 10),
};
process.stdout.write(args.json ? `${JSON.stringify(out)}\n` : `${JSON.stringify(out, null, 2)}\n`);
