import { closePocketsphinxPool } from '../listen/pocketsphinx/pocketsphinx-pool.js';
import { closeFlitePool } from '../speak/flite/flite-pool.js';

/** Ends the process-wide pools of the classic engines (pocketsphinx, flite). */
export async function closeClassicPools(): Promise<void> {
  await Promise.all([closePocketsphinxPool(), closeFlitePool()]);
}
