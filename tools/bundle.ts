/**
 * `node dist/tools/bundle.js` (part of `npm run build`, after `tsc`): bundles what runs in a worker process
 * into `dist/app/`, one file per isolate's entry: the CLI (`bin/chain-worker` runs it), each worker
 * thread's entry (found there as siblings, see `threadScript`), and the benchmark's worker children (so
 * the benchmark measures the worker as it ships).
 *
 * Why: loaded as ~380 modules (tsc's output and the dependencies' own files), the CLI's isolate held
 * 39 MB of anonymous memory after start-up and a full collection; bundled, 26 MB (README "Performance",
 * Memory): one script to compile instead of hundreds of module records, resolutions and file reads.
 * Identifiers are kept (`keepNames`, no renaming) so stack traces still name functions; `dist/app/*.map`
 * maps them back to the sources under `node --enable-source-maps`.
 *
 * `dist/src/` stays as tsc wrote it: the typed client (`chain-worker/client`) and the tests use it.
 */
import { build } from 'esbuild';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../src/lib/repo-paths.js';

/** Output name (in `dist/app/`) → tsc's output it bundles. Thread entries keep their file names. */
export const BUNDLES: Readonly<Record<string, string>> = {
  main: 'dist/src/cli/main.js',
  'page-thread-entry': 'dist/src/provider/massive/page-thread-entry.js',
  'model-thread-entry': 'dist/src/models/model-thread-entry.js',
  'encoder-thread-entry': 'dist/src/outputs/history/encoder-thread-entry.js',
  'compat-thread-entry': 'dist/src/outputs/marketswarm/compat-thread-entry.js',
  'live-thread-entry': 'dist/src/live/live-thread-entry.js',
  'bench-worker-child': 'dist/bench/worker-child.js',
  'bench-fetch-child': 'dist/bench/fetch-child.js',
  'bench-live-child': 'dist/bench/live-child.js',
};

// CommonJS dependencies call `require` (Node's built-ins) and read `__filename`/`__dirname`; in an ES
// module bundle those come from the bundle's own location.
const BANNER = [
  "import { createRequire as __cwRequire } from 'node:module';",
  "import { fileURLToPath as __cwPath } from 'node:url';",
  'const require = __cwRequire(import.meta.url);',
  'const __filename = __cwPath(import.meta.url);',
  "const __dirname = __cwPath(new URL('.', import.meta.url));",
].join('\n');

await build({
  entryPoints: Object.entries(BUNDLES).map(([out, src]) => ({ out, in: resolve(PACKAGE_ROOT, src) })),
  outdir: resolve(PACKAGE_ROOT, 'dist/app'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  banner: { js: BANNER },
  logLevel: 'warning',
});
