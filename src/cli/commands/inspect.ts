/**
 * @module `chain-worker inspect [--json]`: the first thing an operator runs.
 */
import { underlyingOf } from '../../redis/keys.js';
import { inspect, renderInspect } from '../../serving/inspect.js';
import { configFrom, createRuntime } from '../runtime.js';

export async function inspectCommand(flags: { config?: string; json?: boolean }): Promise<number> {
  const config = configFrom(flags);
  const rt = await createRuntime({ ...config, logLevel: 'warn' }, 'chain-worker-inspect');
  try {
    const view = await inspect(rt.bus, rt.keys, config.symbols.map(underlyingOf));
    process.stdout.write(flags.json ? `${JSON.stringify(view, null, 2)}\n` : `${renderInspect(view)}\n`);
    return 0;
  } finally {
    await rt.close();
  }
}
