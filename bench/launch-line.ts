/**
 * @module How `bin/chain-worker` is started, for the benchmark's worker processes: its interpreter line
 * (`#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=… MALLOC_TRIM_THRESHOLD_=… node --max-semi-space-size=…`) carries the memory settings, which
 * must be in place before the process starts, so the benchmark starts its worker child with that very
 * line (as the kernel does: the interpreter, then the rest of the line as one argument, then the script).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../src/lib/repo-paths.js';

export interface LaunchLine {
  /** The interpreter, e.g. `/usr/bin/env`. */
  command: string;
  /** Its one optional argument (the rest of the line, as the kernel passes it), if any. */
  arg: string | null;
}

/** The interpreter line of a script's text (Linux semantics), or null when it has none. */
export function parseLaunchLine(text: string): LaunchLine | null {
  if (!text.startsWith('#!')) return null;
  const line = text.slice(2, text.indexOf('\n') < 0 ? undefined : text.indexOf('\n')).trim();
  const sp = line.search(/[ \t]/);
  if (sp < 0) return line === '' ? null : { command: line, arg: null };
  return { command: line.slice(0, sp), arg: line.slice(sp).trim() || null };
}

/** The command and arguments that run `script args…` the way `bin/chain-worker` itself is run. */
export function asChainWorker(
  script: string,
  args: readonly string[],
  bin = resolve(PACKAGE_ROOT, 'bin/chain-worker'),
): { command: string; args: string[] } {
  const l = parseLaunchLine(readFileSync(bin, 'utf8'));
  if (!l) throw new Error(`${bin} has no interpreter line`);
  return { command: l.command, args: [...(l.arg !== null ? [l.arg] : []), script, ...args] };
}

/**
 * A benchmark child's script as it runs: its bundle in `dist/app/` (tools/bundle.ts), as the worker ships,
 * so the child's memory and event loop are the shipped worker's.
 */
export function benchChild(name: 'worker-child' | 'fetch-child' | 'live-child'): string {
  return resolve(PACKAGE_ROOT, 'dist/app', `bench-${name}.js`);
}
