import type { Logger } from '../core/logger.js';
import type { NeuralFactories } from './default-providers.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The neural tier's factories for the model files present in the cache (none yet). */
export async function loadNeuralFactories(env: Env, logger: Logger): Promise<{ factories: NeuralFactories; close(): Promise<void> }> {
  void env;
  void logger;
  return { factories: {}, close: async () => undefined };
}
