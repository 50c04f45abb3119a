/**
 * @module The streaming scenario on its own: `node dist/bench/live-stream.js [--rates 5000,20000]
 * [--seconds 20] [--warmup 5] [--json]` (also `npm run bench -- --only live`). See live.ts.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { liveRun, type LiveRun } from './live.js';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '5000,20000' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const rows: LiveRun[] = [];
for (const rate of (values.rates ?? '').split(',').map(Number)) {
  rows.push(await liveRun({ rate, seconds: Number(values.seconds), warmup: Number(values.warmup) }));
}
const load = loadavg().map((x) => Math.round(x * 100) / 100);
if (values.json) console.log(JSON.stringify({ loadavg: load, runs: rows }));
else {
  console.table(
    rows.map((r) => ({
      ...r,
      tick_to_model_ms: `${r.tick_to_model_ms.p50} / ${r.tick_to_model_ms.p95}`,
      thread_ms: `${r.thread_ms.hydrate} + ${r.thread_ms.models} + ${r.thread_ms.substrates}`,
    })),
  );
  console.log(`load average ${load.join(' ')}`);
}
