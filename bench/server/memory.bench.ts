/**
 * Memory after load: rounds of sessions opened together, each streaming one real clip at real
 * time and hearing its answer, then all closed; after each round the server process's memory
 * after a full GC. What sessions retain shows as RSS growing from round to round.
 *
 *   BENCH_ROUNDS=7 BENCH_SESSIONS=60 npm run bench -- memory
 */
import { printTable } from '../harness.js';
import { ParleyProcess, runLoad } from './load.js';

const MB = 1024 * 1024;

export default async function (): Promise<void> {
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 7);
  const sessions = Number(process.env['BENCH_SESSIONS'] ?? 60);
  const server = await ParleyProcess.start({ PARLEY_MAX_SESSIONS: String(sessions) });
  const start = await server.measure();
  const rows = [{ after: 'start', answered: '-', 'rss MB': start.memory.rss / MB, 'heap MB': start.memory.heapUsed / MB, 'external MB': start.memory.external / MB }];
  for (let round = 1; round <= rounds; round++) {
    const { outcomes } = await runLoad(server, 'grammar', sessions, 1);
    await server.idle();
    const { memory } = await server.measure();
    const answered = `${outcomes.reduce((n, o) => n + o.answered, 0)}/${sessions}`;
    rows.push({ after: `round ${round}`, answered, 'rss MB': memory.rss / MB, 'heap MB': memory.heapUsed / MB, 'external MB': memory.external / MB });
    console.log(JSON.stringify(rows.at(-1)));
  }
  await server.stop();
  printTable(`Memory of the server process after rounds of ${sessions} sessions (real speech, one answered turn each, all closed)`, rows);
}
