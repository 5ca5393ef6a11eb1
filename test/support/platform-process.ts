/**
 * One Parley process for the many-process tests: the real server and the store the environment
 * names (PARLEY_DATABASE_URL), with scripted providers so that several processes fit on a small
 * machine. Prints `listening <port>` once it accepts sessions; SIGTERM drains it.
 */
import { silentLogger } from '../../src/core/logger.js';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/index.js';
import { openStore } from '../../src/store/index.js';
import { scriptedProviders } from './scripted-providers.js';

const config = loadServerConfig(process.env);
const store = await openStore(process.env);
const server = await startServer({
  config,
  providers: scriptedProviders(),
  createAudio: sessionAudioFactory(config.playoutLeadMs),
  logger: silentLogger(),
  env: { PARLEY_ALLOWED_HOSTS: '127.0.0.1' },
  ...(store === undefined ? {} : { store }),
});
console.log(`listening ${server.port}`);
process.on('SIGTERM', () => {
  void server
    .drain()
    .then(() => store?.close())
    .then(() => process.exit(0));
});
