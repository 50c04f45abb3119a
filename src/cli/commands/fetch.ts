/**
 * @module `chain-worker fetch --symbol I:SPX [--json]`: one snapshot, summarized. Touches no Redis.
 */
import { writeFile } from 'node:fs/promises';
import { EXIT } from '../../chain-worker/worker.js';
import { createLogger } from '../../lib/logger.js';
import { createProvider } from '../../provider/create-provider.js';
import { UnknownSymbolError } from '../../provider/massive/errors.js';
import type { ChainSnapshot, RawContract } from '../../provider/massive/types.js';
import type { Recording } from '../../provider/replay/recording.js';
import { configFrom } from '../runtime.js';

/** The `--json` shape of `fetch`. */
export function fetchSummary(s: ChainSnapshot): Record<string, unknown> {
  const counts = new Map<string, number>(s.expirations.map((e) => [e, 0]));
  for (const c of s.contracts) counts.set(c.expiration, (counts.get(c.expiration) ?? 0) + 1);
  return {
    symbol: s.symbol,
    spot: s.spot,
    as_of: new Date(s.asOf).toISOString(),
    expirations: [...counts].map(([expiration, contracts]) => ({ expiration, contracts })),
    contract_count: s.contracts.length,
    pages: s.pages,
    retries: s.retries,
    skipped: s.skipped,
    skipped_reasons: s.skippedReasons,
    partial: s.partial,
    partial_reasons: s.partialReasons,
    latency_ms: Math.round(s.latencyMs),
    discovery: { pages: s.discovery.pages, ms: Math.round(s.discovery.ms), cached: s.discovery.cached },
  };
}

export async function fetchCommand(flags: {
  config?: string;
  symbol: string;
  json?: boolean;
}): Promise<number> {
  const config = configFrom(flags);
  const logger = createLogger({
    level: flags.json ? 'warn' : config.logLevel,
    format: config.logFormat,
    secrets: [config.apiKey],
    destination: process.stderr,
  });
  const provider = await createProvider(config, logger);
  try {
    let snapshot: ChainSnapshot;
    try {
      snapshot = await provider.client.fetchSnapshot(flags.symbol);
    } catch (err) {
      if (!(err instanceof UnknownSymbolError)) throw err;
      process.stderr.write(`chain-worker: ${err.message}\n`);
      return EXIT.cycleFailed;
    }
    const summary = fetchSummary(snapshot);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      const lines = [
        `${snapshot.symbol}  spot ${snapshot.spot ?? 'n/a'}  as of ${String(summary.as_of)}`,
        ...(summary.expirations as { expiration: string; contracts: number }[]).map(
          (e) => `  ${e.expiration}  ${String(e.contracts).padStart(6)} contracts`,
        ),
        `contracts ${snapshot.contracts.length}  pages ${snapshot.pages} (discovery ${snapshot.discovery.pages})  retries ${snapshot.retries}  skipped ${snapshot.skipped}  partial ${snapshot.partial ? `yes (${snapshot.partialReasons.join(', ')})` : 'no'}  latency ${Math.round(snapshot.latencyMs)} ms`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return 0;
  } finally {
    await provider.close();
  }
}

export async function recordCommand(flags: { config?: string; out: string }): Promise<number> {
  const config = configFrom(flags);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: [config.apiKey],
    destination: process.stderr,
  });
  const provider = await createProvider(config, logger);
  try {
    const snapshots: ChainSnapshot[] = [];
    for (const symbol of config.symbols) snapshots.push(await provider.client.fetchSnapshot(symbol));
    const recording = recordingFromSnapshots(snapshots);
    await writeFile(flags.out, `${JSON.stringify(recording)}\n`);
    logger.info(
      { out: flags.out, symbols: snapshots.map((s) => [s.symbol, s.contracts.length]) },
      'recording written',
    );
    return 0;
  } finally {
    await provider.close();
  }
}

/** A recording of fetched snapshots: `recorded_at` is the first snapshot's as-of time. */
export function recordingFromSnapshots(snapshots: readonly ChainSnapshot[]): Recording {
  const recording: Recording = {
    recorded_at: new Date(snapshots[0]?.asOf ?? Date.now()).toISOString(),
    underlyings: {},
  };
  for (const s of snapshots) {
    const underlyingAsset = s.underlyingAsset ?? {
      ticker: s.symbol,
      ...(s.spot !== null ? { value: s.spot } : {}),
    };
    const results = s.contracts.map(
      (c) => c.raw ?? (JSON.parse(c.rawJson?.toString('utf8') ?? '{}') as RawContract),
    );
    recording.underlyings[s.symbol] = { underlying_asset: underlyingAsset, results };
  }
  return recording;
}
