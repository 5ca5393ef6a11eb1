import { pocketsphinxPool } from '../listen/pocketsphinx/pocketsphinx-pool.js';
import { flitePool } from '../speak/flite/flite-pool.js';

/** Ends the process-wide pools of the classic engines (pocketsphinx, flite). */
export async function closeClassicPools(): Promise<void> {
  await Promise.all([pocketsphinxPool.close(), flitePool.close()]);
}
