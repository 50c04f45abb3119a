/**
 * @module The doctor's WebSocket probe: open the options feed with the real stream client, wait for
 * `auth_success` (live) or `auth_failed` (failed), then close. The key goes only into the auth message.
 */
import { silentLogger } from '../lib/logger.js';
import { StreamConnection } from '../provider/massive/stream-client.js';

export interface StreamFacts {
  url: string;
  /** `authenticated`, `rejected`, or `timeout` (no answer in time: unreachable or silent). */
  outcome: 'authenticated' | 'rejected' | 'timeout';
  ms: number;
}

/** Authenticates once against `${baseUrl}/options`. */
export async function probeStream(baseUrl: string, apiKey: string, timeoutMs = 8_000): Promise<StreamFacts> {
  const url = `${baseUrl.replace(/\/+$/, '')}/options`;
  const t0 = Date.now();
  let conn: StreamConnection | undefined;
  const outcome = await new Promise<StreamFacts['outcome']>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    conn = new StreamConnection({
      url,
      feed: 'options',
      apiKey,
      logger: silentLogger(),
      onEvents: () => undefined,
      onFatal: () => {
        clearTimeout(timer);
        resolve('rejected');
      },
      onState: (state) => {
        if (state === 'live') {
          clearTimeout(timer);
          resolve('authenticated');
        }
      },
    });
    conn.start();
  });
  conn?.close();
  return { url, outcome, ms: Date.now() - t0 };
}
