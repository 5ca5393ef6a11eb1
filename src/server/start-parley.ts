import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger, logFormat } from '../core/logger.js';
import type { Logger } from '../core/logger.js';
import { loadServerConfig } from './config.js';
import type { ServerConfig } from './config.js';
import { startServer } from './index.js';
import type { RunningServer } from './index.js';
import { defaultProviders } from '../runtime/default-providers.js';
import { reserveClassicPools } from '../runtime/classic-pools.js';
import { relaxHeapGrowth } from '../runtime/heap-growth.js';
import { loadNeuralFactories } from '../runtime/neural.js';
import { offeredModels } from '../runtime/offered-models.js';
import { sessionAudioFactory } from '../runtime/session-audio.js';
import { warmUp } from '../runtime/warm-up.js';
import type { Store } from '../store/index.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The built web page, when it was built (npm run build:web). */
const BUILT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface Parley {
  server: RunningServer;
  tiers: Record<string, string>;
  /** Drain sessions (SIGTERM), then free the engines. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a complete Parley: engines chosen by what is installed, cloud providers, the server. */
export async function startParley(options: { env?: Env; overrides?: Partial<ServerConfig>; logger?: Logger; store?: Store } = {}): Promise<Parley> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger(env['PARLEY_LOG_LEVEL'], logFormat(env));
  const config: ServerConfig = { ...loadServerConfig(env), ...options.overrides };
  if (config.webDir === undefined && existsSync(BUILT_WEB_DIR)) config.webDir = BUILT_WEB_DIR;
  const neural = loadNeuralFactories(env, logger);
  const engines = defaultProviders(env, neural.factories);
  reserveClassicPools(config.maxSessions);
  relaxHeapGrowth();
  const tiers = { ...engines.tiers };
  logger.info({ engines: tiers }, 'local engines');
  const server = await startServer({
    config,
    providers: engines.providers,
    createAudio: sessionAudioFactory(config.playoutLeadMs, { echoSuppression: config.echoSuppression }),
    logger,
    env,
    health: () => ({ engines: tiers }),
    models: offeredModels(env),
    ready: Promise.all([warmUp(engines.providers, env, logger), neural.warm()]),
    ...(options.store === undefined ? {} : { store: options.store }),
  });
  const freeEngines = async (): Promise<void> => {
    await engines.close();
    await neural.close();
  };
  return {
    server,
    tiers,
    async drain() {
      await server.drain();
      await freeEngines();
    },
    async close() {
      await server.close();
      await freeEngines();
    },
  };
}
