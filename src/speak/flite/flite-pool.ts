// The process-wide pool of flite synthesizers.
import { LazyPool } from '../../workers/lazy-pool.js';
import { workerModuleUrl } from '../../workers/worker-pool.js';

/** Runs 'flite.synthesize' jobs: one per sentence. */
export const flitePool = new LazyPool({
  name: 'classic-speak',
  modules: [workerModuleUrl(import.meta.url, './flite-worker')],
  jobsPerWorker: 4,
  maxQueue: 64,
});
