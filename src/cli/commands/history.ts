/**
 * @module `chain-worker history --symbol SPX [--from ISO] [--to ISO] [--fields a,b] [--step s] [--json]`:
 * the GEX levels through time from the model history, read from Redis directly (the same rows as
 * `GET /api/history/{symbol}`), as a table or the API's JSON.
 */
import { ConfigError } from '../../config/errors.js';
import { parseIsoInstant } from '../../lib/time.js';
import { readSeries, type HistorySeries } from '../../outputs/history/read.js';
import { parseFields } from '../../outputs/history/rows.js';
import { underlyingOf } from '../../redis/keys.js';
import { configFrom, createRuntime } from '../runtime.js';

export interface HistoryFlags {
  config?: string;
  symbol: string;
  from?: string;
  to?: string;
  fields?: string;
  step?: number;
  json?: boolean;
}

function instant(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const t = parseIsoInstant(raw);
  if (t === null)
    throw new ConfigError(flag, 'expected an ISO-8601 instant such as 2026-01-07T15:30:00Z', raw);
  return t;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
  return typeof v === 'string' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/** The series as an aligned text table (one line per row, a header line first). */
export function renderSeries(s: HistorySeries): string {
  const cols = ['ts', 'trigger', ...s.fields];
  const lines = [cols, ...s.rows.map((r) => cols.map((c) => cell((r as Record<string, unknown>)[c])))];
  const widths = cols.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  const text = lines.map((l) =>
    l
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const head = `${s.symbol} gex history ${s.from} → ${s.to}: ${s.rows.length} rows of ${s.versions} versions${s.step > 0 ? ` (one per ${s.step} s)` : ''}`;
  return [head, ...text].join('\n');
}

export async function historyCommand(flags: HistoryFlags): Promise<number> {
  const config = configFrom(flags);
  const symbol = underlyingOf(flags.symbol.trim().toUpperCase());
  const now = Date.now();
  const span = (config.modelHistorySec > 0 ? config.modelHistorySec : 86_400) * 1000;
  const toMs = instant('--to', flags.to, now);
  const fromMs = instant('--from', flags.from, now - span);
  if (fromMs > toMs) throw new ConfigError('--from', 'expected an instant before --to', flags.from ?? '');
  let fields;
  try {
    fields = parseFields(flags.fields);
  } catch (err) {
    throw new ConfigError('--fields', (err as Error).message, flags.fields ?? '');
  }
  const rt = await createRuntime({ ...config, logLevel: 'warn' }, 'chain-worker-history');
  try {
    const series = await readSeries(rt.bus, rt.keys, symbol, {
      fromMs,
      toMs,
      fields,
      ...(flags.step !== undefined ? { stepSec: flags.step } : {}),
    });
    process.stdout.write(flags.json ? `${JSON.stringify(series)}\n` : `${renderSeries(series)}\n`);
    return 0;
  } finally {
    await rt.close();
  }
}
