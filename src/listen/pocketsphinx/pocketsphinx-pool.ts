// The process-wide pool of pocketsphinx listeners. It is separate from the flite pool so that a
// sentence being synthesized never delays a VAD onset.
import { LazyPool } from '../../workers/lazy-pool.js';
import { workerModuleUrl } from '../../workers/worker-pool.js';

/** Runs 'listen.local' jobs: one per listening session for its whole life. */
export const pocketsphinxPool = new LazyPool({
  name: 'classic-listen',
  modules: [workerModuleUrl(import.meta.url, './pocketsphinx-worker')],
  jobsPerWorker: 32,
  maxQueue: 0,
});
