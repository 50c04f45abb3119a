/**
 * Global test setup: starts a 3-master Redis Cluster for the suite (provided to tests as `clusterUrl`)
 * and stops it afterwards. The single-server suite uses 127.0.0.1:6379 (TEST_REDIS_URL to override).
 */
import type { TestProject } from 'vitest/node';
import { RedisClusterProcess } from '../../tools/redis-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    clusterUrl: string;
  }
}

let cluster: RedisClusterProcess | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TEST_NO_CLUSTER !== '1') {
    cluster = new RedisClusterProcess();
    await cluster.start(3);
  }
  project.provide('clusterUrl', cluster?.url ?? '');
  return async () => {
    await cluster?.destroy();
  };
}
