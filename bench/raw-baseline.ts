/**
 * @module The physical limit of the write phase: the same commands pre-encoded as one RESP stream and
 * written to a raw socket (what `redis-cli --pipe` does), timed until the last reply arrives; and a plain
 * client pipeline (ioredis) for reference.
 */
import { connect } from 'node:net';
import type { Redis } from 'ioredis';
import { encodeCommands } from '../src/redis/resp.js';
import type { BulkCommand } from '../src/redis/bus.js';

/** Sends pre-encoded commands on a fresh socket; resolves with the elapsed ms (encoding excluded). */
export async function rawSocketWrite(
  host: string,
  port: number,
  commands: readonly BulkCommand[],
): Promise<number> {
  const payload = encodeCommands(commands);
  const socket = connect({ host, port });
  socket.setNoDelay(true);
  await new Promise<void>((r, j) => {
    socket.once('connect', () => r());
    socket.once('error', j);
  });
  const expected = commands.length;
  let seen = 0;
  const t0 = performance.now();
  const done = new Promise<number>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) seen++;
      if (seen >= expected) resolve(performance.now() - t0);
    });
  });
  socket.write(payload);
  const ms = await done;
  socket.destroy();
  return ms;
}

/** The same commands through one ioredis pipeline. */
export async function clientPipelineWrite(client: Redis, commands: readonly BulkCommand[]): Promise<number> {
  const t0 = performance.now();
  const p = client.pipeline();
  for (const c of commands) p.call(c[0], ...c.slice(1));
  await p.exec();
  return performance.now() - t0;
}
