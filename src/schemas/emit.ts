/**
 * @module Writes `schemas/<name>.json` at the package root from the zod source (run by `npm run build`).
 * Generated, not committed: the build (and so `npm pack` / `prepare`) always emits them fresh.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../lib/repo-paths.js';
import { PUBLISHED_SCHEMAS, jsonSchemaOf, type SchemaName } from './published.js';

export const SCHEMAS_DIR = resolve(PACKAGE_ROOT, 'schemas');

/** Emits every schema; returns the files written. */
export function emitSchemas(dir = SCHEMAS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  return (Object.keys(PUBLISHED_SCHEMAS) as SchemaName[]).map((name) => {
    const file = resolve(dir, `${name}.json`);
    writeFileSync(file, `${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`);
    return file;
  });
}
