/**
 * @module Paths relative to the package root (works from `src/` under vitest and from `dist/src/`).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
}

/** The chain-worker package root. */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** `../shared/fixtures/massive` beside the checkout (present in development and CI only). */
export const MASSIVE_FIXTURES_DIR = resolve(PACKAGE_ROOT, '../shared/fixtures/massive');
