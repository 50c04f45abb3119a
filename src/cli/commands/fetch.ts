/**
 * @module `chain-worker fetch --symbol I:SPX [--json]`: one snapshot, summarized. Touches no Redis.
 */
import { writeFile } from 'node:fs/promises';
import { EXIT } from '../../chain-worker/worker.js';
import { createLogger } from '../../lib/logger.js';
import { createProvider } from '../../provider/create-provider.js';
import { UnknownSymbolError } from '../../provider/massive/errors.js';
import type { ChainSnapshot, RawContract } from '../../provider/massive/types.js';
import { ConfigError } from '../../config/errors.js';
import { DECIMAL } from '../../config/settings.js';
import { chooseSubscriptions, perSymbolBudget } from '../../live/subscription.js';
import { normalizeSnapshot } from '../../normalizers/registry.js';
import { RECORDING_VERSION, type Recording } from '../../provider/replay/recording.js';
import { captureStream } from '../../provider/replay/stream-capture.js';
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

export async function recordCommand(flags: {
  config?: string;
  out: string;
  streamSeconds?: string;
}): Promise<number> {
  const config = configFrom(flags);
  // Plain decimal, as the numeric settings: Number() read '' as 0, '0x10' as 16 and '1e2' as 100.
  const raw = flags.streamSeconds?.trim();
  const streamSeconds = raw === undefined ? 0 : DECIMAL.test(raw) ? Number(raw) : NaN;
  if (!(Number.isFinite(streamSeconds) && streamSeconds >= 0 && streamSeconds <= 3600)) {
    throw new ConfigError(
      '--stream-seconds',
      'expected seconds from 0 to 3600, plain decimal digits',
      JSON.stringify(flags.streamSeconds ?? ''),
    );
  }
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: [config.apiKey],
    destination: process.stderr,
  });
  const provider = await createProvider(config, logger);
  try {
    if (streamSeconds > 0 && !provider.wsUrl) {
      throw new ConfigError(
        'MASSIVE_STREAM',
        '--stream-seconds needs a stream: MASSIVE_STREAM=on and a provider that streams (or MASSIVE_WS_URL)',
        config.stream,
      );
    }
    const snapshots: ChainSnapshot[] = [];
    for (const symbol of config.symbols) snapshots.push(await provider.client.fetchSnapshot(symbol));
    const recording = recordingFromSnapshots(snapshots);
    if (streamSeconds > 0 && provider.wsUrl) {
      // The contracts the worker would quote for these snapshots (the same rule), quotes and trades.
      const max = perSymbolBudget(config.streamMaxContracts, snapshots.length);
      const options: string[] = [];
      for (const s of snapshots) {
        if (s.spot === null) continue;
        const records = normalizeSnapshot(s.contracts, { underlying: s.underlying, asOf: s.asOf }).records;
        for (const id of chooseSubscriptions(records, { spot: s.spot, now: s.asOf, max }))
          options.push(`Q.${id}`, `T.${id}`);
      }
      const capture = await captureStream({
        wsUrl: provider.wsUrl,
        apiKey: config.apiKey ?? 'local',
        logger,
        seconds: streamSeconds,
        options,
        indices: config.symbols.map((s) => `V.${s}`),
        silenceMs: config.streamSilenceMs,
      });
      recording.version = RECORDING_VERSION;
      recording.stream = capture.events;
      logger.info(
        { events: capture.events.length, dropped: capture.dropped, failed: capture.failed },
        'stream captured',
      );
    }
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
