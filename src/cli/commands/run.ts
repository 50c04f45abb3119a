/**
 * @module `chain-worker run` (the loop, or `--once`) and `chain-worker build` (model builders alone).
 */
import { ChainWorker, EXIT } from '../../chain-worker/worker.js';
import { ModelBuilder } from '../../models/builder.js';
import { ModelThreadPool } from '../../models/model-thread.js';
import { SubstrateHandoff } from '../../models/substrate-handoff.js';
import { closeObservers, modelObservers, quiesceObservers } from '../../outputs/index.js';
import { startLive, type LiveService } from '../../live/start-live.js';
import { createProvider } from '../../provider/create-provider.js';
import { startHttpServer, type HttpServer } from '../../serving/server.js';
import {
  configFrom,
  createRuntime,
  onShutdownSignals,
  closing,
  httpAddress,
  untilShutdownSignal,
} from '../runtime.js';

/** What a start-up step opened: closed, the latest first, when a later step fails. */
interface Closable {
  close(): Promise<void>;
}

export interface RunFlags {
  config?: string;
  once?: boolean;
  http?: string;
  build?: boolean;
}

/** Runs the worker; resolves with the exit code. */
export async function runCommand(flags: RunFlags): Promise<number> {
  const config = configFrom(flags);
  const at = flags.http ? httpAddress(flags.http, config) : undefined;
  const rt = await createRuntime(config);
  // A start-up step that fails closes what the earlier ones opened (the latest first), so the process
  // exits by itself with the failure's code: a Redis connection, the local API or the HTTP server left
  // open kept it alive after the error line.
  const opened: Closable[] = [rt];
  const step = async <T>(start: () => T | Promise<T>): Promise<T> => {
    try {
      return await start();
    } catch (err) {
      return await closing(...[...opened].reverse())(err);
    }
  };
  const provider = await step(() => createProvider(config, rt.logger));
  opened.push(provider);
  const owner = `${process.pid}`;
  // The model threads, made here: the history encodes on the first, after its builds (no thread of its
  // own), and is closed before them.
  const threads = flags.build === false ? undefined : new ModelThreadPool(config.modelThreads);
  if (threads) opened.push(threads);
  // One set of outputs for the snapshot builder and the live chain (one history writer per process).
  const observers =
    flags.build === false
      ? []
      : await step(() => modelObservers({ ...rt, historyThread: threads?.historyLane() ?? null }));
  opened.push({ close: () => closeObservers(observers) });
  // The cycles hand the substrates they wrote to the builder of this process (no read-back from Redis).
  const handoff = flags.build === false ? undefined : new SubstrateHandoff();
  const builder =
    flags.build === false
      ? undefined
      : await step(
          () =>
            new ModelBuilder({
              ...rt,
              owner: `builder-${owner}`,
              observers,
              ...(threads ? { threads } : {}),
              ...(handoff ? { handoff } : {}),
            }),
        );
  if (builder) opened.push({ close: () => builder.stop() });
  const worker = await step(
    () =>
      new ChainWorker(
        {
          ...rt,
          client: provider.client,
          ...(builder ? { onDirty: async () => void (await builder.drain()) } : {}),
          ...(handoff ? { handoff } : {}),
        },
        { once: flags.once === true },
      ),
  );
  // Before the live chain starts: a failed listen then has nothing streaming to stop.
  let http: HttpServer | undefined;
  if (at) {
    http = await step(() =>
      startHttpServer({ ...rt, mode: 'run', lastSuccessTs: () => worker.lastSuccessTs }, at),
    );
    opened.push(http);
  }
  // The live chain (MASSIVE_STREAM=on): streamed quotes and spot between REST snapshots, models every second.
  let live: LiveService | undefined;
  if (provider.wsUrl && !flags.once && flags.build !== false) {
    const wsUrl = provider.wsUrl;
    live = await step(() =>
      startLive({
        ...rt,
        wsUrl,
        apiKey: config.apiKey ?? 'local',
        observers,
        ...(provider.kind === 'replay' ? { clock: provider.clock } : {}),
        // Several workers share the symbols: each streams only those whose lease it holds.
        holds: (vendor) => worker.leases.held.has(vendor),
      }),
    );
  }
  const offSignals = onShutdownSignals((signal) => {
    rt.logger.info({ signal }, 'shutting down');
    // The history's and MarketSwarm's queues are dropped now, not worked through while the cycles end.
    quiesceObservers(observers);
    // Nothing waits for a Redis that is gone: its commands fail at once (the leases and heartbeat expire).
    rt.bus.failFast();
    rt.systemBus.failFast();
    worker.stop(`signal ${signal}`);
  });
  rt.logger.info(
    { symbols: config.symbols, provider: provider.kind, worker: worker.id, once: flags.once === true },
    'chain-worker started',
  );
  let code: number = EXIT.internal;
  try {
    code = await worker.run();
    if (builder && flags.once) {
      await builder.drain();
      // The history is written past the drain: a one-shot run keeps its versions before it closes them.
      await builder.idle();
    }
  } finally {
    offSignals();
    await live?.stop();
    await builder?.stop();
    await closeObservers(observers);
    await threads?.close();
    await http?.close();
    await provider.close();
    await rt.close();
  }
  rt.logger.info({ exitCode: code }, 'chain-worker stopped');
  return code;
}

/** `chain-worker build`: model builders alone, until a signal. */
export async function buildCommand(flags: { config?: string }): Promise<number> {
  const config = configFrom(flags);
  const rt = await createRuntime(config, 'chain-worker-build');
  const builder = new ModelBuilder({ ...rt, owner: `builder-${process.pid}` });
  // A refused start (the dirty channel's SUBSCRIBE, e.g. NOPERM) closes the builder's subscriber and the
  // buses: the process exits with the error instead of hanging on them.
  await builder.start().catch(closing({ close: () => builder.stop() }, rt));
  rt.logger.info('model builder started');
  await untilShutdownSignal();
  await builder.stop();
  await rt.close();
  return EXIT.ok;
}
