// The engines' warm-up and the server's shutdown: a shutdown during the warm-up closes the
// engines under it, which is no failure and must not log an error with a stack; a warm-up that
// fails by itself still does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/index.js';
import { emptyProviders } from '../../src/session/provider-registry.js';
import { PoolClosedError } from '../../src/workers/worker-pool.js';

const ERROR = 50;

async function serverWarmingUp(): Promise<{ lines: { level: number; msg?: string }[]; fail: (err: Error) => void; close: () => Promise<void> }> {
  const lines: { level: number; msg?: string }[] = [];
  let fail!: (err: Error) => void;
  const ready = new Promise<void>((_resolve, reject) => (fail = reject));
  const config = { ...loadServerConfig({}), port: 0, host: '127.0.0.1', apiKeys: [] };
  const server = await startServer({
    config,
    providers: emptyProviders(),
    createAudio: sessionAudioFactory(config.playoutLeadMs),
    logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg?: string }) }),
    env: {},
    ready,
  });
  return { lines, fail, close: () => server.close() };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('race: a shutdown during the engines warm-up logs no error, only that the warm-up ended', async () => {
  const server = await serverWarmingUp();
  await server.close();
  server.fail(new PoolClosedError('classic-speak'));
  await settle();
  assert.deepEqual(server.lines.filter((l) => l.level >= ERROR), []);
  assert.ok(server.lines.some((l) => l.msg === 'engine warm-up ended by the shutdown'));
});

test('a warm-up that fails while the server runs is logged as an error', async () => {
  const server = await serverWarmingUp();
  server.fail(new Error('model file missing'));
  await settle();
  assert.ok(server.lines.some((l) => l.level >= ERROR && l.msg === 'engines failed to load'));
  await server.close();
});
