import type { Providers } from '../../src/session/provider-registry.js';
import { silentLogger } from '../../src/core/logger.js';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import type { ServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { scriptedProviders } from './scripted-providers.js';

/**
 * A real Parley server on an ephemeral 127.0.0.1 port, by default with scripted providers. Its
 * env lets client settings reach fakes on 127.0.0.1 (the outbound guard refuses loopback
 * otherwise); pass PARLEY_ALLOWED_HOSTS: '' to test the guard itself.
 */
export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  providers: Providers = scriptedProviders(),
  env: Record<string, string | undefined> = {},
): Promise<RunningServer> {
  const config = { ...loadServerConfig({}), port: 0, host: '127.0.0.1', ...overrides };
  return startServer({
    config,
    providers,
    createAudio: sessionAudioFactory(config.playoutLeadMs),
    logger: silentLogger(),
    env: { PARLEY_ALLOWED_HOSTS: '127.0.0.1', ...env },
  });
}
