/**
 * Session churn: sessions opened, greeted, asked for a long reply and closed mid-reply by the
 * client, one after another (scripted providers, so the figures are the server's own cost).
 * Prints the time per session and the heap retained after GC, against the heap after a warm-up
 * of the same sessions in the same run: a leak per session shows as growth.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AgentSocket } from '../../test/support/agent-socket.js';
import { startTestServer } from '../../test/support/test-server.js';
import { printTable, summarize } from '../harness.js';

const WARM_UP = 30;
const SESSIONS = 300;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
}

export default async function (): Promise<void> {
  const server = await startTestServer({ idleTimeoutMs: 60_000 });
  const durations: number[] = [];
  const churn = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
      socket.send({
        type: 'Settings',
        audio: { input: { encoding: 'mulaw', sample_rate: 8000 }, output: { encoding: 'linear16', sample_rate: 24000 } },
        agent: { listen: { provider: { type: 'scripted' } }, think: { provider: { type: 'scripted' } }, speak: { provider: { type: 'scripted' } }, greeting: 'Hello there.' },
      });
      await socket.waitFor('SettingsApplied');
      socket.send({ type: 'InjectUserMessage', content: 'tell me a story' });
      await socket.waitFor('ConversationText', (e) => String(e.content).startsWith('Once upon'));
      socket.close();
      await socket.closed();
      durations.push(performance.now() - started);
    }
    while (server.sessionCount() > 0) await new Promise((r) => setTimeout(r, 10));
  };
  await churn(WARM_UP);
  const baseline = heapMb();
  durations.length = 0;
  await churn(SESSIONS);
  const after = heapMb();
  await server.close();
  const time = summarize(durations);
  printTable(`Session churn: ${SESSIONS} sessions, each greeted, asked for a story and closed mid-reply`, [
    { figure: 'open → story audio → close (ms per session)', median: time.median, p95: time.p95 },
    { figure: `heap after GC, MB (baseline: after ${WARM_UP} warm-up sessions)`, median: baseline, p95: baseline },
    { figure: `heap after GC, MB, after ${SESSIONS} more sessions`, median: after, p95: after },
    { figure: 'heap retained per session, KB', median: ((after - baseline) * 1000) / SESSIONS, p95: ((after - baseline) * 1000) / SESSIONS },
  ]);
}
