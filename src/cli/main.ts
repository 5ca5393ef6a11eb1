import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { suggestPull } from '../models/suggest.js';
import { startParley } from '../server/start-parley.js';
import { registerModelsCommand } from './models.js';
import { registerTalkCommand } from './talk.js';
import { registerPlatformCommands } from './platform.js';
import { describeStore, openStore } from '../store/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface ServeOptions {
  port?: number;
  host?: string;
}

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port: ${value}`);
  return n;
};

/** One line for a port that cannot be listened on (busy, privileged), else undefined. */
function listenError(err: unknown): string | undefined {
  const { code, address, port } = (err ?? {}) as { code?: unknown; address?: unknown; port?: unknown };
  const where = `${String(address)}:${String(port)}`;
  if (code === 'EADDRINUSE') return `${where} is already in use (another server on that port?); choose another with --port or PORT`;
  if (code === 'EACCES') return `no permission to listen on ${where}; choose a port above 1023 with --port or PORT`;
  if (code === 'EADDRNOTAVAIL') return `${String(address)} is not an address of this machine; choose another with --host or HOST`;
  return undefined;
}

async function serve(options: ServeOptions): Promise<void> {
  suggestPull(process.env);
  const store = await openStore(process.env);
  let parley: Awaited<ReturnType<typeof startParley>>;
  try {
    parley = await startParley({
      ...(store === undefined ? {} : { store }),
      overrides: {
        ...(options.port === undefined ? {} : { port: options.port }),
        ...(options.host === undefined ? {} : { host: options.host }),
      },
    });
  } catch (err) {
    const listenFailure = listenError(err);
    if (listenFailure === undefined) throw err;
    console.error(`parley serve: ${listenFailure}`);
    await store?.close();
    process.exit(1);
  }
  const base = parley.server.url;
  console.error(`Parley ${pkg.version} on ${base.replace('ws://', 'http://')}  (agents: ${base}/v1/agent/converse, EA: ${base}/agent)`);
  console.error(`engines: listen=${parley.tiers['listen']} think=${parley.tiers['think']} speak=${parley.tiers['speak']}`);
  console.error(`store: ${describeStore(process.env)}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1);
    stopping = true;
    console.error(`${signal}: draining sessions (a second signal exits at once)`);
    void parley
      .drain()
      .then(() => store?.close())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const program = new Command();
program
  .name('parley')
  .description("Self-hosted voice agent server that speaks Deepgram's Voice Agent API")
  .version(pkg.version);

program
  .command('serve')
  .description('start the agent server (configuration: environment variables, see README)')
  .addOption(new Option('-p, --port <port>', 'port to listen on (default: $PORT or 8080)').argParser(port))
  .addOption(new Option('--host <host>', 'address to listen on (default: $HOST or 127.0.0.1)'))
  .action(serve);

registerModelsCommand(program);
registerPlatformCommands(program);
registerTalkCommand(program, async () => {
  // A private server for this command only: loopback, any port, no keys, quiet logs.
  const parley = await startParley({
    overrides: { port: 0, host: '127.0.0.1', apiKeys: [] },
    env: { ...process.env, PARLEY_LOG_LEVEL: process.env['PARLEY_LOG_LEVEL'] ?? 'error' },
  });
  return { url: parley.server.url, close: () => parley.close() };
});

await program.parseAsync(process.argv);
