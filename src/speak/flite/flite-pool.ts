// The process-wide pool of flite synthesizers, started on first use.
import { WorkerPool, workerModuleUrl } from '../../workers/worker-pool.js';

let pool: WorkerPool | undefined;

/** Runs 'flite.synthesize' jobs: one per sentence. */
export function flitePool(): WorkerPool {
  pool ??= new WorkerPool({
    name: 'classic-speak',
    modules: [workerModuleUrl(import.meta.url, './flite-worker')],
    jobsPerWorker: 4,
    maxQueue: 64,
  });
  return pool;
}

export async function closeFlitePool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.close();
}
