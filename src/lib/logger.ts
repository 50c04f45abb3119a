/**
 * @module Logging (pino) with secret scrubbing as a last line of defence: no code path logs the API key,
 * and any line that would contain a registered secret has it replaced before it is written. JSON lines by
 * default; on a terminal (or with `LOG_FORMAT=pretty`) one readable line per event (pino-pretty). The
 * scrubbing runs on the JSON line before it is formatted, so it covers both formats.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type { Logger } from 'pino';

/** `auto`: pretty when the output is a terminal, JSON lines otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  level?: string;
  /** Strings that must never appear in output (the API key, the HTTP token). */
  secrets?: (string | undefined)[];
  destination?: DestinationStream;
  name?: string;
  /** @defaultValue `'auto'` */
  format?: LogFormat;
}

interface FlushableStream extends DestinationStream {
  flush?: (cb?: (err?: Error) => void) => void;
  isTTY?: boolean;
}

/** Whether `format` resolves to pretty output for a destination (`isTTY` of the stream; stdout by default). */
export function isPretty(format: LogFormat, destination?: DestinationStream): boolean {
  if (format !== 'auto') return format === 'pretty';
  const out = (destination ?? process.stdout) as FlushableStream;
  return out.isTTY === true;
}

/** Formats each JSON line as one readable line and writes it to `inner` synchronously (no lost lines at exit). */
function prettyDestination(inner: FlushableStream, colorize: boolean): FlushableStream {
  const format = prettyFactory({
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  return {
    write(line: string): void {
      inner.write(format(line));
    },
    flush(cb?: (err?: Error) => void): void {
      if (inner.flush) inner.flush(cb);
      else cb?.();
    },
  };
}

/** Creates the process logger. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = (opts.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const inner: FlushableStream = opts.destination ?? pino.destination({ dest: 1, sync: false });
  const pretty = isPretty(opts.format ?? 'auto', opts.destination);
  const colorize = pretty && !opts.destination && process.stdout.isTTY === true && !process.env.NO_COLOR;
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
    pretty ? prettyDestination(inner, colorize) : inner,
  );
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
