/**
 * @module The worker of the streaming benchmark: `chain-worker run --http …` in this process, with a probe
 * the parent starts and reads over IPC (`{probe: 'start'}` → `{probe: 'started'}`, `{probe: 'stop'}` →
 * `{probe: 'result', …}`): the longest event-loop delay (monitorEventLoopDelay) and the most main-thread CPU
 * between two turns of the loop (schedstat), see probes.ts. The live threads are not the main thread: what
 * they do shows in the process CPU, not in these figures.
 */
import { runCommand } from '../src/cli/commands/run.js';
import { startProbe, type Probe } from './probes.js';

const http = process.argv[2] ?? '127.0.0.1:0';
let probe: Probe | undefined;
process.on('message', (msg: { probe?: string }) => {
  if (msg.probe === 'start') {
    probe = startProbe();
    process.send?.({ probe: 'started' });
  } else if (msg.probe === 'stop') {
    const r = probe?.stop() ?? null;
    probe = undefined;
    process.send?.({ probe: 'result', result: r });
  }
});
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
process.exitCode = await runCommand({ http });
process.disconnect?.();
