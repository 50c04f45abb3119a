/**
 * @module The `chain-worker` command line.
 */
import { Command } from 'commander';
import { ConfigError } from '../config/errors.js';
import { MassiveAuthError } from '../provider/massive/errors.js';
import { RecordingError } from '../provider/replay/recording.js';
import { RedisUnavailableError, wholeNumberFlag } from './runtime.js';
import { EXIT } from '../chain-worker/worker.js';
import { buildCommand, runCommand } from './commands/run.js';
import { fetchCommand, recordCommand } from './commands/fetch.js';
import { inspectCommand } from './commands/inspect.js';
import { historyCommand } from './commands/history.js';
import { eventsCommand } from './commands/events.js';
import { configCommand } from './commands/config.js';
import { simServerCommand } from './commands/sim-server.js';
import { serveCommand } from './commands/serve.js';
import { doctorCommand } from './commands/doctor.js';

const intArg = wholeNumberFlag();

/** Runs a command; a thrown error (sync or async) becomes one line on stderr and the documented exit code. */
async function exitWith(command: () => Promise<number> | number): Promise<void> {
  try {
    process.exitCode = await command();
  } catch (err) {
    if (err instanceof RedisUnavailableError) {
      process.stderr.write(`chain-worker: ${err.message}\n`);
      process.exitCode = EXIT.redisUnavailable;
      return;
    }
    // fetch, record: the API refused the key, the exit code run gives it.
    if (err instanceof MassiveAuthError) {
      process.stderr.write(`chain-worker: ${err.message}\n`);
      process.exitCode = EXIT.auth;
      return;
    }
    if (err instanceof ConfigError || err instanceof RecordingError) {
      process.stderr.write(`chain-worker: ${err.message}\n`);
      process.exitCode = EXIT.config;
      return;
    }
    process.stderr.write(`chain-worker: ${(err as Error).message}\n`);
    process.exitCode = EXIT.internal;
  }
}

const program = new Command()
  .name('chain-worker')
  .description(
    'Option-chain snapshots from the Massive API into a Redis workspace of epochs, substrates and models.',
  )
  .option('-c, --config <file>', 'JSON config file (also CHAIN_WORKER_CONFIG)')
  // commander's usage errors (an unknown option or command, a missing or invalid flag value) are a bad
  // configuration like any other: exit 2, one `chain-worker: …` line. Set before the commands, which
  // inherit it. --help stays 0.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT.config))
  .configureOutput({
    outputError: (text, write) => write(`chain-worker: ${text.replace(/^error: /, '')}`),
  });

program
  .command('run')
  .description('run the chain worker loop (and the model builders, and the HTTP server with --http)')
  .option('--once', 'one cycle per symbol, build the models, then exit')
  .option('--http <host:port>', 'serve health, metrics, the API and the dashboard')
  .option('--no-build', 'do not run model builders in this process')
  .action(async (opts: { once?: boolean; http?: string; build?: boolean }) => {
    await exitWith(() => runCommand({ ...program.opts<{ config?: string }>(), ...opts }));
  });

program
  .command('build')
  .description('run the model builders alone')
  .action(async () => {
    await exitWith(() => buildCommand(program.opts<{ config?: string }>()));
  });

program
  .command('serve')
  .description('serve the API, SSE stream and dashboard from Redis alone')
  .option('--http <host:port>', 'address to listen on', '127.0.0.1:8080')
  .action(async (opts: { http: string }) => {
    await exitWith(() => serveCommand({ ...program.opts<{ config?: string }>(), ...opts }));
  });

program
  .command('fetch')
  .description('fetch one snapshot and print a summary')
  .requiredOption('--symbol <symbol>', 'underlying, e.g. I:SPX')
  .option('--json', 'print one JSON object')
  .action(async (opts: { symbol: string; json?: boolean }) => {
    await exitWith(() => fetchCommand({ ...program.opts<{ config?: string }>(), ...opts }));
  });

program
  .command('inspect')
  .description('show epochs, health and analytics from Redis')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    await exitWith(() => inspectCommand({ ...program.opts<{ config?: string }>(), ...opts }));
  });

program
  .command('events')
  .description('print massive:events (epoch, health and level events), oldest first')
  .option('--follow', 'keep printing new events until SIGINT/SIGTERM')
  .option('--since <id>', 'only events after this stream id (the first column of a line)')
  .option('--symbol <symbol>', 'only this underlying (and worker-wide events), e.g. SPX or I:SPX')
  .option('--json', 'one JSON object per line: the event with its `id`')
  .action(async (opts: { follow?: boolean; since?: string; symbol?: string; json?: boolean }) => {
    await exitWith(() => eventsCommand({ ...program.opts<{ config?: string }>(), ...opts }));
  });

program
  .command('history')
  .description('print the GEX levels through time from the model history (Redis)')
  .requiredOption('--symbol <symbol>', 'underlying, e.g. SPX or I:SPX')
  .option('--from <iso>', 'first instant (default: now − CHAIN_MODEL_HISTORY_SEC)')
  .option('--to <iso>', 'last instant (default: now)')
  .option('--fields <list>', 'comma-separated (default spot,zero_gamma,call_wall,put_wall,net)')
  .option('--step <seconds>', 'one row per bucket of this many seconds', intArg)
  .option('--json', 'print the JSON of GET /api/history/{symbol}')
  .action(
    async (opts: {
      symbol: string;
      from?: string;
      to?: string;
      fields?: string;
      step?: number;
      json?: boolean;
    }) => {
      await exitWith(() => historyCommand({ ...program.opts<{ config?: string }>(), ...opts }));
    },
  );

program
  .command('record')
  .description('fetch every configured symbol and write a replay recording')
  .requiredOption('--out <file>', 'recording file to write')
  .option(
    '--stream-seconds <n>',
    'then capture N seconds of the stream (quotes and trades of the contracts the worker would quote, index values) into the recording (format version 2)',
  )
  .action(async (opts: { out: string; streamSeconds?: string }) => {
    await exitWith(() => recordCommand({ ...program.opts<{ config?: string }>(), ...opts }));
  });

program
  .command('sim-server')
  .description('run the local Massive-compatible API over the simulated market (or a recording)')
  .option('--port <n>', 'port (0 = ephemeral)', wholeNumberFlag(65_535), 0)
  .option('--host <host>', 'address', '127.0.0.1')
  .option('--seed <n>', 'simulation seed', intArg)
  .option('--burst', 'burst chain (~20,000 contracts over 5 expirations of SPX+NDX)')
  .option('--latency-ms <n>', 'per-page latency', intArg)
  .option('--replay <file>', 'serve a recording instead of the simulation')
  .action(
    async (opts: {
      port: number;
      host: string;
      seed?: number;
      burst?: boolean;
      latencyMs?: number;
      replay?: string;
    }) => {
      await exitWith(() => simServerCommand({ ...program.opts<{ config?: string }>(), ...opts }));
    },
  );

program
  .command('doctor')
  .description('check Redis, the Massive API, the market session and the configuration')
  .option('--json', 'print one JSON object')
  .action(async (opts: { json?: boolean }) => {
    await exitWith(() => doctorCommand({ ...program.opts<{ config?: string }>(), ...opts }));
  });

program
  .command('config')
  .description('print the effective configuration (secrets hidden)')
  .option('--markdown', 'print the settings table for the README')
  .action(async (opts: { markdown?: boolean }) => {
    await exitWith(() => configCommand({ ...program.opts<{ config?: string }>(), ...opts }));
  });

await program.parseAsync(process.argv);
