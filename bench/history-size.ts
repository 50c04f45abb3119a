/**
 * @module `node dist/bench/history-size.js`: history storage figures. Builds both models for SPX and NDX
 * from the simulated market every `--cadence` seconds of market time (the burst chain, ~20,000 contracts,
 * or the everyday sim chain with `--sim`), encodes each version as the history does (keyframe or patch,
 * brotli) and prints bytes per version and per day at that cadence, and the encode time per version.
 * In-process and pure (no Redis): the figures are the record sizes the history SETs.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { buildModels } from '../src/models/build-models.js';
import { SimMarket } from '../src/provider/sim/sim-market.js';
import { HistoryEncoder } from '../src/outputs/history/encoder.js';
import { decodeRecord, reconstruct } from '../src/outputs/history/record.js';
import { BENCH_WIDTHS, simSubstrates } from './sim-chain.js';

const { values: args } = parseArgs({
  options: {
    cadence: { type: 'string', default: '30' },
    versions: { type: 'string', default: '40' },
    sim: { type: 'boolean', default: false },
    start: { type: 'string', default: '2026-01-07T15:00:00Z' },
    json: { type: 'boolean', default: false },
  },
});
const cadenceSec = Number(args.cadence);
const count = Number(args.versions);
const startMs = Date.parse(args.start ?? '');
let now = startMs;
const market = new SimMarket({ clock: () => now, burst: !args.sim });
const encoder = new HistoryEncoder();

type Acc = {
  published: number;
  records: number;
  keyframes: number;
  keyframeBytes: number;
  n: number;
  encodeMs: number[];
};
const acc: Record<string, Acc> = {};
let contracts = 0;
/** Every record by stream and id, and the last version's published bytes, to time a read at the end. */
const recordsByStream = new Map<string, Map<string, Buffer>>();
const lastPublished = new Map<string, { id: string; bytes: Buffer }>();
for (let i = 0; i < count; i++) {
  now = startMs + i * cadenceSec * 1000;
  contracts = 0;
  for (const u of ['SPX', 'NDX']) {
    const { contracts: records, spot } = simSubstrates(market, u, now);
    contracts += records.length;
    const built = buildModels({
      symbol: u,
      epochId: `${u}:bench`,
      asOf: now,
      spot,
      ts: now,
      stale: false,
      widths: BENCH_WIDTHS[u] ?? [5],
      windowPct: 5,
      substrates: new TextEncoder().encode(JSON.stringify(records)),
    });
    for (const [model, bytes] of [
      ['gex', built.gex],
      ['heatmap', built.heatmap],
    ] as const) {
      const stream = `${model}:${u}`;
      const a = (acc[stream] ??= {
        published: 0,
        records: 0,
        keyframes: 0,
        keyframeBytes: 0,
        n: 0,
        encodeMs: [],
      });
      const t0 = performance.now();
      const res = encoder.encode({ stream, id: `v${i}`, tsMs: now, published: bytes, gex: model === 'gex' });
      a.encodeMs.push(performance.now() - t0);
      a.published += bytes.byteLength;
      a.records += res.record.byteLength;
      let kept = recordsByStream.get(stream);
      if (!kept) recordsByStream.set(stream, (kept = new Map<string, Buffer>()));
      kept.set(res.id, Buffer.from(res.record));
      lastPublished.set(stream, { id: res.id, bytes: Buffer.from(bytes) });
      a.keyframes += res.kind === 'keyframe' ? 1 : 0;
      a.keyframeBytes += res.kind === 'keyframe' ? res.record.byteLength : 0;
      a.n++;
    }
  }
}
/** A read of each stream's last version through its whole chain, as `?at=` does (less the Redis I/O). */
const readMs: Record<string, { chain: number; ms: number }> = {};
for (const [stream, last] of lastPublished) {
  const kept = recordsByStream.get(stream) as Map<string, Buffer>;
  const rec = kept.get(last.id) as Buffer;
  const chain = decodeRecord(rec).chain.map((id) => kept.get(id) as Buffer);
  const t0 = performance.now();
  const bytes = reconstruct([...chain, rec]);
  const ms = performance.now() - t0;
  if (!bytes.equals(last.bytes)) throw new Error(`${stream}: the read does not give the published bytes`);
  readMs[stream] = { chain: chain.length + 1, ms: Math.round(ms) };
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const perDay = 86_400 / cadenceSec;
const rows = Object.entries(acc).map(([stream, a]) => ({
  stream,
  versions: a.n,
  keyframes: a.keyframes,
  published_kb_per_version: Math.round(a.published / a.n / 1024),
  record_kb_per_version: Math.round((a.records / a.n / 1024) * 10) / 10,
  keyframe_kb: Math.round(a.keyframeBytes / Math.max(1, a.keyframes) / 1024),
  patch_kb: Math.round(((a.records - a.keyframeBytes) / Math.max(1, a.n - a.keyframes) / 1024) * 10) / 10,
  ratio: Math.round((a.published / a.records) * 10) / 10,
  mb_per_day: Math.round(((a.records / a.n) * perDay) / 2 ** 20),
  encode_ms_median: Math.round(med(a.encodeMs)),
  read_records: readMs[stream]?.chain ?? 0,
  read_ms: readMs[stream]?.ms ?? 0,
}));
const total = rows.reduce((n, r) => n + r.mb_per_day, 0);
const out = {
  chain: args.sim ? 'sim' : 'burst',
  contracts,
  cadence_sec: cadenceSec,
  loadavg_1m: Math.round((loadavg()[0] ?? 0) * 10) / 10,
  rows,
  total_mb_per_day_24h: total,
};
if (args.json) console.log(JSON.stringify(out));
else {
  console.log(
    `${out.chain} chain, ${contracts} contracts (SPX+NDX), cadence ${cadenceSec} s, load ${out.loadavg_1m}`,
  );
  console.table(rows);
  console.log(`total ${total} MB per 24 h at this cadence`);
}
