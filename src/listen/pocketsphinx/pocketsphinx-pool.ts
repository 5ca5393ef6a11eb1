// The process-wide pool of pocketsphinx listeners, started on first use. It is separate from the
// flite pool so that a sentence being synthesized never delays a VAD onset.
import { WorkerPool, workerModuleUrl } from '../../workers/worker-pool.js';

let pool: WorkerPool | undefined;

/** Runs 'listen.local' jobs: one per listening session for its whole life. */
export function pocketsphinxPool(): WorkerPool {
  pool ??= new WorkerPool({
    name: 'classic-listen',
    modules: [workerModuleUrl(import.meta.url, './pocketsphinx-worker')],
    jobsPerWorker: 32,
    maxQueue: 0,
  });
  return pool;
}

export async function closePocketsphinxPool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.close();
}
