/**
 * @module `node dist/bench/gex-build.js`: GEX build time on the burst chain (SPX + NDX, ~20,000 contracts),
 * the model as built now (overall and per-date profiles in one pass) against the same model assembled view
 * by view with a profile pass each (how it was built before), interleaved in one process so the machine's
 * load hits both alike; the model as built now after a full collection (`gex_after_gc_ms`: as the model
 * thread builds, whose heap is collected between builds; see src/lib/shape-anchors.ts); and the floor:
 * JSON.parse of the same substrates. Prints medians, minimums and ratios.
 */
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { byOpenInterest, byVolume } from '../src/models/gex/aggregates.js';
import { classifyForGex } from '../src/models/gex/eligibility.js';
import { buildGexModel } from '../src/models/gex/index.js';
import { gexView } from '../src/models/gex/view.js';
import type { ModelInput } from '../src/models/types.js';
import { SimMarket } from '../src/provider/sim/sim-market.js';
import { simSubstrates } from './sim-chain.js';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, json: { type: 'boolean', default: false } },
});
const runs = Number(args.runs);
const now = Date.parse('2026-01-07T15:00:00Z');
const market = new SimMarket({ clock: () => now, burst: true });
const inputs: ModelInput[] = ['SPX', 'NDX'].map((u) => {
  const { contracts, spot } = simSubstrates(market, u, now);
  return { symbol: u, epochId: 'bench', asOf: now, spot, contracts, ts: now, stale: false };
});
const jsons = inputs.map((i) => JSON.stringify(i.contracts));

/** Before: every view (overall, each date, volume) evaluates its own profile. */
function viewByView(input: ModelInput): string {
  const spot = input.spot as number;
  const { contracts } = classifyForGex(input.contracts, input.asOf, spot);
  const all = gexView(contracts, byOpenInterest, spot);
  const dates = [...new Set(contracts.map((c) => c.expiration))].sort();
  const byDate = dates.map((d) =>
    gexView(
      contracts.filter((c) => c.expiration === d),
      byOpenInterest,
      spot,
    ),
  );
  const volume = gexView(contracts, byVolume, spot);
  return JSON.stringify({ all, byDate, volume });
}

const time = (fn: () => unknown): number => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};
// Warm-up: both paths compiled before anything is timed.
for (let r = 0; r < 2; r++) {
  for (const i of inputs) {
    JSON.stringify(buildGexModel(i));
    viewByView(i);
  }
}
// A full collection on demand (what `--expose-gc` gives), for the builds after one.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const now_: number[] = [];
const afterGc: number[] = [];
const before: number[] = [];
const floor: number[] = [];
for (let r = 0; r < runs; r++) {
  // Alternate which goes first, so neither always runs right after the other's garbage.
  const a = (): void => void now_.push(time(() => inputs.forEach((i) => JSON.stringify(buildGexModel(i)))));
  const b = (): void => void before.push(time(() => inputs.forEach(viewByView)));
  if (r % 2 === 0) {
    a();
    b();
  } else {
    b();
    a();
  }
  floor.push(time(() => jsons.forEach((j) => void JSON.parse(j))));
  gc();
  afterGc.push(time(() => inputs.forEach((i) => JSON.stringify(buildGexModel(i)))));
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const r1 = (x: number): number => Math.round(x * 10) / 10;
const out = {
  contracts: inputs.reduce((n, i) => n + i.contracts.length, 0),
  runs,
  loadavg_1m: r1(loadavg()[0] ?? 0),
  gex_ms: { median: r1(med(now_)), min: r1(Math.min(...now_)) },
  gex_after_gc_ms: { median: r1(med(afterGc)), min: r1(Math.min(...afterGc)) },
  view_by_view_ms: { median: r1(med(before)), min: r1(Math.min(...before)) },
  parse_floor_ms: { median: r1(med(floor)), min: r1(Math.min(...floor)) },
  gex_over_floor: r1(med(now_) / med(floor)),
  view_by_view_over_floor: r1(med(before) / med(floor)),
};
console.log(args.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
