/**
 * @module JSON logging (pino) with secret scrubbing as a last line of defence: no code path logs the API
 * key, and any line that would contain a registered secret has it replaced before it is written.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Strings that must never appear in output (the API key, the HTTP token). */
  secrets?: (string | undefined)[];
  destination?: DestinationStream;
  name?: string;
}

/** Creates the process logger. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = (opts.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 4);
  return pino(
    {
      name: opts.name ?? 'chain-worker',
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      redact: {
        paths: ['apiKey', '*.apiKey', 'headers.authorization', '*.headers.authorization'],
        censor: '[redacted]',
      },
      hooks: {
        streamWrite(line: string): string {
          let out = line;
          for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
          return out;
        },
      },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
