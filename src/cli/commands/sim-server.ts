/**
 * @module `chain-worker sim-server --port N`: the local Massive-compatible API alone.
 */
import { createLogger } from '../../lib/logger.js';
import type { MarketDataset } from '../../provider/local-api/dataset.js';
import { startLocalApi } from '../../provider/local-api/server.js';
import { loadRecording } from '../../provider/replay/recording.js';
import { ReplayDataset } from '../../provider/replay/replay-dataset.js';
import { SimMarket } from '../../provider/sim/sim-market.js';
import { configFrom, untilShutdownSignal } from '../runtime.js';

export interface SimServerFlags {
  config?: string;
  port: number;
  host: string;
  seed?: number;
  burst?: boolean;
  latencyMs?: number;
  replay?: string;
}

export async function simServerCommand(flags: SimServerFlags): Promise<number> {
  const config = configFrom(flags);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: [config.apiKey],
    name: 'sim-server',
  });
  const dataset: MarketDataset = flags.replay
    ? new ReplayDataset(await loadRecording(flags.replay))
    : new SimMarket({
        seed: flags.seed ?? config.simSeed,
        burst: flags.burst ?? config.simBurst,
        contractsPerExpiration: config.simContractsPerExpiration,
        offHours: config.simOffHours,
      });
  const server = await startLocalApi({
    dataset,
    host: flags.host,
    port: flags.port,
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
    faults: { latencyMs: flags.latencyMs ?? config.simLatencyMs },
    seed: flags.seed ?? config.simSeed,
  });
  logger.info({ url: server.url, replay: flags.replay ?? null }, 'local Massive-compatible API listening');
  // One machine-readable line on stdout so scripts (the benchmark) can find the port.
  process.stdout.write(`${JSON.stringify({ listening: server.url })}\n`);
  await untilShutdownSignal();
  await server.close();
  return 0;
}
