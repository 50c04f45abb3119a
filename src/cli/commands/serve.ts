/**
 * @module `chain-worker serve --http HOST:PORT`: the HTTP server alone, reading Redis only.
 */
import { startHttpServer } from '../../serving/server.js';
import { closing, configFrom, createRuntime, httpAddress, untilShutdownSignal } from '../runtime.js';

export async function serveCommand(flags: { config?: string; http: string }): Promise<number> {
  const config = configFrom(flags);
  const at = httpAddress(flags.http, config);
  const rt = await createRuntime(config, 'chain-worker-serve');
  const server = await startHttpServer({ ...rt, mode: 'serve' }, at).catch(closing(rt));
  rt.logger.info({ url: server.url }, 'serving');
  await untilShutdownSignal();
  await server.close();
  await rt.close();
  return 0;
}
