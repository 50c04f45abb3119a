/**
 * The doctor's WebSocket probe against the local stream server: the right key authenticates, a wrong key
 * is rejected (auth_failed), a port that is not listening times out; the key never appears in the facts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { probeStream } from '../../src/doctor/probe-stream.js';
import { startStreamServer, type StreamServer } from '../../src/provider/local-api/ws-server.js';
import { SimStreamSource } from '../../src/provider/local-api/ws-feed.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';
import { freePort } from '../../tools/redis-servers.js';

const KEY = 'mk_doctor_stream_key_0123456789';

describe('doctor WebSocket probe', () => {
  let server: StreamServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('authenticates with the right key, is rejected with a wrong one', async () => {
    server = await startStreamServer({
      source: new SimStreamSource(new SimMarket({ seed: 7 })),
      indices: ['I:SPX'],
      apiKey: KEY,
    });
    const ok = await probeStream(server.url, KEY, 5_000);
    expect(ok.outcome).toBe('authenticated');
    expect(ok.url).toBe(`${server.url}/options`);
    const bad = await probeStream(server.url, 'wrong-key-000', 5_000);
    expect(bad.outcome).toBe('rejected');
    expect(JSON.stringify([ok, bad])).not.toContain(KEY);
  });

  it('times out when nothing listens', async () => {
    const port = await freePort();
    const r = await probeStream(`ws://127.0.0.1:${port}`, KEY, 600);
    expect(r.outcome).toBe('timeout');
    expect(r.ms).toBeGreaterThanOrEqual(590);
  });
});
