import { pocketsphinxCheckPool, pocketsphinxPool } from '../listen/pocketsphinx/pocketsphinx-pool.js';
import { flitePool } from '../speak/flite/flite-pool.js';

/**
 * Sizes the classic pools for a server that admits `maxSessions` sessions, so that none it admits
 * is refused an engine: each holds one listen job for its whole life and synthesizes one sentence
 * at a time. Twice as many slots, since a job cancelled by a closed session or a barge-in holds its
 * slot until its worker confirms, while the server may already admit the next session (and the
 * warm-up holds one listen job).
 */
export function reserveClassicPools(maxSessions: number): void {
  pocketsphinxPool.reserve({ running: 2 * maxSessions });
  // Grammar checks queue for their threads: room for two per admitted session.
  pocketsphinxCheckPool.reserve({ queued: 2 * maxSessions });
  flitePool.reserve({ queued: 2 * maxSessions });
}

/** Ends the process-wide pools of the classic engines (pocketsphinx, flite). */
export async function closeClassicPools(): Promise<void> {
  await Promise.all([pocketsphinxPool.close(), pocketsphinxCheckPool.close(), flitePool.close()]);
}
