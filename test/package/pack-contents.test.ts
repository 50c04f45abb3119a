/**
 * What `npm pack` ships: every file the runtime reads from the package directory. Any non-TypeScript
 * file under src/ (Lua scripts, dashboard assets, …) is read at run time, so it must be in the tarball;
 * so must the compiled sources, the thread entry scripts and the binary. `.ci/pack-smoke` goes further:
 * it installs the tarball into an empty project and runs a cycle.
 */
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/lib/repo-paths.js';

const run = promisify(execFile);

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(relative(PACKAGE_ROOT, p));
  }
  return out;
}

async function packedFiles(): Promise<Set<string>> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: PACKAGE_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [report] = JSON.parse(stdout) as { files: { path: string }[] }[];
  return new Set((report?.files ?? []).map((f) => f.path));
}

describe('npm pack', () => {
  it('ships every runtime asset under src/, the compiled sources and the thread entries', async () => {
    const files = await packedFiles();
    const runtimeAssets = walk(join(PACKAGE_ROOT, 'src')).filter((f) => !/\.(ts|md)$/.test(f));
    expect(runtimeAssets.length).toBeGreaterThan(5);
    expect(runtimeAssets.filter((f) => !files.has(f))).toEqual([]);
    const compiled = walk(join(PACKAGE_ROOT, 'dist/src')).filter((f) => f.endsWith('.js'));
    expect(compiled.filter((f) => !files.has(f))).toEqual([]);
    expect(files.has('bin/chain-worker')).toBe(true);
    expect(files.has('dist/src/models/model-thread-entry.js')).toBe(true);
    // The worker as it runs (tools/bundle.ts): the CLI and every thread entry, with their source maps.
    const bundles = walk(join(PACKAGE_ROOT, 'dist/app')).filter((f) => !f.includes('/bench-'));
    expect(bundles).toContain('dist/app/main.js');
    expect(bundles).toContain('dist/app/page-thread-entry.js.map');
    expect(bundles.filter((f) => !files.has(f))).toEqual([]);
    // The JSON Schemas the build emits (not committed) ship under schemas/.
    const schemas = [...files].filter((f) => /^schemas\/[a-z-]+\.json$/.test(f));
    expect(schemas).toContain('schemas/gex-model.json');
    expect(schemas.length).toBe(walk(join(PACKAGE_ROOT, 'schemas')).length);
    expect([...files].filter((f) => f.startsWith('src/redis/scripts/') && f.endsWith('.lua')).length).toBe(
      walk(join(PACKAGE_ROOT, 'src/redis/scripts')).filter((f) => f.endsWith('.lua')).length,
    );
  });

  it('ships no tests, benchmarks or TypeScript sources', async () => {
    const files = [...(await packedFiles())];
    expect(
      files.filter(
        (f) => /^(test|bench|tools)\//.test(f) || /^src\/.*\.ts$/.test(f) || f.startsWith('dist/app/bench-'),
      ),
    ).toEqual([]);
  });
});
