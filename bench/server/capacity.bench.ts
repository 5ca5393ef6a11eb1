/**
 * Capacity: how many callers one Parley process with the embedded engines serves at once. Each
 * session streams real recorded speech at real time (bench/server/load.ts), two turns, and every
 * turn must be answered; the table shows, per number of concurrent sessions, how many opened,
 * how many turns were answered and how long after the end of speech the answer began.
 *
 *   BENCH_SESSIONS=40,80,120 BENCH_MODE=grammar|open npm run bench -- capacity
 */
import { printTable, summarize } from '../harness.js';
import { ParleyProcess, runLoad } from './load.js';
import type { LoadMode } from './load.js';

const TURNS = 2;

export default async function (): Promise<void> {
  const counts = (process.env['BENCH_SESSIONS'] ?? '20,40,60,80,100').split(',').map(Number);
  const mode: LoadMode = process.env['BENCH_MODE'] === 'open' ? 'open' : 'grammar';
  const server = await ParleyProcess.start({ PARLEY_MAX_SESSIONS: String(Math.max(...counts)) });
  const rows = [];
  for (const sessions of counts) {
    const { outcomes, serverCpuPercent } = await runLoad(server, mode, sessions, TURNS);
    await server.idle();
    const latencies = outcomes.flatMap((o) => o.latenciesMs);
    const time = latencies.length > 0 ? summarize(latencies) : undefined;
    const refusals = [...new Set(outcomes.flatMap((o) => (o.refusal === undefined ? [] : [o.refusal])))];
    rows.push({
      sessions,
      opened: outcomes.filter((o) => o.opened).length,
      'turns answered': `${outcomes.reduce((n, o) => n + o.answered, 0)}/${outcomes.reduce((n, o) => n + o.turns, 0)}`,
      'end of speech → answer audio, ms median': time?.median ?? NaN,
      p95: time?.p95 ?? NaN,
      max: time?.max ?? NaN,
      'server cpu %': serverCpuPercent,
      refused: refusals.join('; ') || '-',
    });
  }
  await server.stop();
  printTable(`Capacity, embedded engines (${mode === 'grammar' ? 'cards clips, rules grammar' : 'LibriVox clips, open vocabulary'}): concurrent sessions, real speech at real time, ${TURNS} turns each`, rows);
}
