/**
 * @module The `chain-worker` binary for tests that run it as an operator would (`npm test` builds it first).
 */
import { resolve } from 'node:path';
import { SETTINGS } from '../../src/config/settings.js';
import { PACKAGE_ROOT } from '../../src/lib/repo-paths.js';

export const BIN = resolve(PACKAGE_ROOT, 'bin/chain-worker');

/**
 * The test process's environment without any chain-worker setting or config file (a developer's shell
 * may hold some), plus `extra`: a child sees only what the test sets.
 */
export function binaryEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const s of Object.values(SETTINGS)) delete env[s.name];
  delete env.CHAIN_WORKER_CONFIG;
  return { ...env, ...extra };
}
