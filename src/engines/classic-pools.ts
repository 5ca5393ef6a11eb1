// The process-wide pools of the classic local engines, started on first use. Listening and
// speaking use separate pools so that a sentence being synthesized never delays a VAD onset.
import { WorkerPool, workerModuleUrl } from './worker-pool.js';

let listenPool: WorkerPool | undefined;
let speakPool: WorkerPool | undefined;

/** Runs 'listen.local' jobs: one per listening session for its whole life. */
export function classicListenPool(): WorkerPool {
  listenPool ??= new WorkerPool({
    name: 'classic-listen',
    modules: [workerModuleUrl(import.meta.url, './listen/listen-worker')],
    jobsPerWorker: 32,
    maxQueue: 0,
  });
  return listenPool;
}

/** Runs 'flite.synthesize' jobs: one per sentence. */
export function classicSpeakPool(): WorkerPool {
  speakPool ??= new WorkerPool({
    name: 'classic-speak',
    modules: [workerModuleUrl(import.meta.url, './flite/flite-worker')],
    jobsPerWorker: 4,
    maxQueue: 64,
  });
  return speakPool;
}

export async function closeClassicPools(): Promise<void> {
  const pools = [listenPool, speakPool];
  listenPool = undefined;
  speakPool = undefined;
  await Promise.all(pools.map((pool) => pool?.close()));
}
