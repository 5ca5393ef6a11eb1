import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { silentLogger } from '../../src/core/logger.js';
import type { Logger } from '../../src/core/logger.js';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import type { ServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { hashSecret, newKeySecret, openSqliteStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { AgentSocket } from './agent-socket.js';
import type { Json } from './agent-socket.js';
import { scriptedProviders } from './scripted-providers.js';

export const SCRIPTED_AGENT = {
  listen: { provider: { type: 'scripted' } },
  think: { provider: { type: 'scripted' } },
  speak: { provider: { type: 'scripted' } },
};

export function scriptedSettings(agent: unknown = SCRIPTED_AGENT): Json {
  return { type: 'Settings', audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } }, agent };
}

/** A real server with scripted providers and a store (the platform features under test). */
export function startStoreServer(store: Store, overrides: Partial<ServerConfig> = {}, logger: Logger = silentLogger()): Promise<RunningServer> {
  const config = { ...loadServerConfig({}), port: 0, host: '127.0.0.1', idleTimeoutMs: 60_000, ...overrides };
  return startServer({ config, providers: scriptedProviders(), createAudio: sessionAudioFactory(config.playoutLeadMs), logger, env: { PARLEY_ALLOWED_HOSTS: '127.0.0.1' }, store });
}

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** One JSON request to a server's HTTP side. */
export function httpJson(method: string, url: string, options: { credential?: string; scheme?: string; body?: unknown } = {}): Promise<HttpAnswer> {
  const text = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          ...(options.credential === undefined ? {} : { authorization: `${options.scheme ?? 'Token'} ${options.credential}` }),
          ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }),
        },
      },
      (res) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data === '' ? {} : (JSON.parse(data) as Record<string, unknown>) }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** An agent socket, or the HTTP status and body of the refused upgrade. */
export function tryOpen(url: string, options: { credential?: string; bearerProtocol?: boolean; bearerHeader?: boolean } = {}): Promise<{ socket: AgentSocket } | { status: number; body: string }> {
  const headers: Record<string, string> = {};
  const protocols: string[] = [];
  if (options.credential !== undefined) {
    if (options.bearerProtocol === true) protocols.push('bearer', options.credential);
    else headers['authorization'] = `${options.bearerHeader === true ? 'Bearer' : 'Token'} ${options.credential}`;
  }
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.removeAllListeners('open');
      resolve({ socket: AgentSocket.wrap(ws) });
    });
  });
}

/**
 * A fresh SQLite store with one project limited to one session and one key, for races with a
 * client that leaves while its admission waits: `late` is the same store with an `acquireSlot`
 * that answers `delayMs` late (the server's), and `slotTaken` settles once a late acquire has
 * taken its slot.
 */
export async function openLateSlotStore(delayMs: number): Promise<{
  dir: string;
  store: Store;
  late: Store;
  projectId: string;
  key: string;
  slotTaken: Promise<void>;
  close: () => Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-late-slots-'));
  const store = await openSqliteStore(join(dir, 'parley.db'));
  const project = await store.createProject({ name: 'hang-up', concurrencyLimit: 1 });
  const key = newKeySecret();
  await store.createKey({ projectId: project.id, secretHash: hashSecret(key) });
  let taken: () => void = () => undefined;
  const slotTaken = new Promise<void>((resolve) => (taken = resolve));
  const late: Store = Object.create(store) as Store;
  late.acquireSlot = async (request, now) => {
    await new Promise((r) => setTimeout(r, delayMs));
    const result = await store.acquireSlot(request, now);
    taken();
    return result;
  };
  return {
    dir,
    store,
    late,
    projectId: project.id,
    key,
    slotTaken,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` holds or the deadline passes (state another process or the store changes). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
