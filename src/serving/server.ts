/**
 * @module The HTTP server (placeholder until the serving issue lands): /healthz only.
 */
import Fastify from 'fastify';
import type { Config } from '../config/load.js';
import type { Logger } from '../lib/logger.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import type { Metrics } from './metrics.js';

export interface HttpServerDeps {
  bus: RedisBus;
  keys: KeySchema;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  mode: 'run' | 'serve';
  /** Last successful cycle time (run mode). */
  lastSuccessTs?: () => number;
}

export interface HttpServer {
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(_deps: HttpServerDeps, at: { host: string; port: number }): Promise<HttpServer> {
  const app = Fastify();
  app.get('/healthz', () => ({ status: 'ok' }));
  const url = await app.listen({ host: at.host, port: at.port });
  return { url, close: () => app.close() };
}
