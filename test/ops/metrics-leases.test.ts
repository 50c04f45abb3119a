/**
 * The per-symbol gauges a worker exposes follow the symbols it holds: a symbol that moved to another
 * worker leaves no `chain_worker_last_success_timestamp_seconds` behind on this one's /metrics (the
 * alert `time() - that > 150` would otherwise page for a symbol another worker cycles fine).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChainWorker, EXIT } from '../../src/chain-worker/worker.js';
import { startHttpServer, type HttpServer } from '../../src/serving/server.js';
import { redisTargets } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];

async function scrape(server: HttpServer): Promise<string> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

function lastSuccess(text: string, symbol: string): number | null {
  const m = new RegExp(
    `^chain_worker_last_success_timestamp_seconds\\{symbol="${symbol}"\\} (\\S+)$`,
    'm',
  ).exec(text);
  return m ? Number(m[1]) : null;
}

describe('worker metrics across lease moves', () => {
  let h: Harness | undefined;
  let worker: ChainWorker | undefined;
  let server: HttpServer | undefined;
  afterEach(async () => {
    worker?.stop();
    await worker?.shutdown();
    worker = undefined;
    await server?.close();
    server = undefined;
    await h?.close();
    h = undefined;
  });

  it('a symbol taken over by another worker leaves no last-success gauge here; the one still held keeps it', async () => {
    h = await startHarness(single, {
      sim: { contractsPerExpiration: 10 },
      env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.2', CHAIN_LEASE_TTL_SEC: '1.5' },
    });
    const hh = h;
    const w = new ChainWorker(
      { ...hh.deps, systemBus: hh.bus, config: { ...hh.config, symbols: ['I:SPX', 'I:NDX'] } },
      { id: 'w-gives-spx' },
    );
    worker = w;
    server = await startHttpServer(
      {
        bus: hh.bus,
        keys: hh.keys,
        config: hh.config,
        logger: hh.logger,
        metrics: hh.metrics,
        mode: 'run',
        lastSuccessTs: () => w.lastSuccessTs,
      },
      { host: '127.0.0.1', port: 0 },
    );
    const run = w.run();
    await waitUntil(
      () => w.lastResults.get('I:SPX')?.ok === true && w.lastResults.get('I:NDX')?.ok === true,
      15_000,
      'a good cycle of both symbols',
    );
    const before = await scrape(server);
    expect(lastSuccess(before, 'SPX')).toBeGreaterThan(Date.now() / 1000 - 15);
    expect(lastSuccess(before, 'NDX')).toBeGreaterThan(Date.now() / 1000 - 15);

    // Another live worker takes SPX over.
    await hh.bus.cmd.zadd(hh.keys.workers, Date.now() / 1000 + 3600, 'w-other');
    await hh.bus.cmd.set(hh.keys.workerLease('SPX'), 'w-other|999', 'PX', 60_000);
    await waitUntil(() => !w.leases.held.has('I:SPX'), 10_000, 'SPX lease lost');
    // One more loop pass (a rebalance) after the loss.
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await scrape(server);
    // Was: SPX's gauge stayed at its last success here, ageing for ever.
    expect(lastSuccess(after, 'SPX')).toBeNull();
    expect(lastSuccess(after, 'NDX')).toBeGreaterThan(Date.now() / 1000 - 15);
    expect(after).toMatch(/^chain_worker_leases_held 1$/m);
    w.stop();
    expect(await run).toBe(EXIT.ok);
  });
});
