// The process-wide pools of pocketsphinx. They are separate from the flite pool so that a
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

/**
 * Runs 'listen.check' jobs (check-decode.ts), one at a time per thread: a decode blocks its
 * thread, so the live listening threads never wait for one.
 */
export const pocketsphinxCheckPool = new LazyPool({
  name: 'classic-listen-check',
  modules: [workerModuleUrl(import.meta.url, './pocketsphinx-check-worker')],
  jobsPerWorker: 1,
  maxQueue: 64,
});
