/**
 * The settings discovery endpoints: Deepgram's list shape, what this server can serve (local
 * engines present, cloud providers with a server key), and the agent paths' credentials.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import { offeredModels } from '../../src/runtime/offered-models.js';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { emptyProviders } from '../../src/session/provider-registry.js';

async function serve(apiKeys: string[], env: Record<string, string>): Promise<{ server: RunningServer; base: string }> {
  const config = { ...loadServerConfig({}), port: 0, host: '127.0.0.1', apiKeys };
  const server = await startServer({
    config,
    providers: emptyProviders(),
    createAudio: sessionAudioFactory(config.playoutLeadMs),
    logger: silentLogger(),
    env,
    models: offeredModels(env),
  });
  return { server, base: server.url.replace('ws://', 'http://') };
}

interface Listed {
  models: { id: string; name: string; provider: string }[];
}

describe('settings discovery endpoints', () => {
  let modelsDir: string;
  before(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'parley-discovery-'));
  });
  after(async () => {
    await rm(modelsDir, { recursive: true, force: true });
  });

  it('lists the local engines and only the cloud providers the server holds keys for', async () => {
    const { server, base } = await serve([], { PARLEY_MODELS_DIR: modelsDir, OPENAI_API_KEY: 'sk-test' });
    try {
      const think = (await (await fetch(`${base}/v1/agent/settings/think/models`)).json()) as Listed;
      for (const model of think.models) assert.deepEqual(Object.keys(model).sort(), ['id', 'name', 'provider']);
      assert.deepEqual([...new Set(think.models.map((m) => m.provider))], ['rules', 'open_ai']);
      assert.ok(think.models.some((m) => m.provider === 'open_ai' && m.id === 'gpt-4o-mini'));
      const speak = (await (await fetch(`${base}/v1/agent/settings/speak/models`)).json()) as Listed;
      assert.ok(speak.models.some((m) => m.provider === 'flite' && m.id === 'slt'));
      assert.ok(!speak.models.some((m) => m.provider === 'deepgram'), 'no DEEPGRAM_API_KEY, no Aura');
      const listen = await fetch(`${base}/v1/agent/settings/listen/models/`);
      assert.equal(listen.status, 200);
      assert.equal(listen.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(((await listen.json()) as Listed).models.map((m) => m.provider), ['pocketsphinx', 'open_ai', 'open_ai']);
      assert.equal((await fetch(`${base}/v1/agent/settings/voices/models`)).status, 404);
      assert.equal((await fetch(`${base}/v1/agent/settings/think/models`, { method: 'POST' })).status, 405);
    } finally {
      await server.close();
    }
  });

  it('lists a neural engine whose model is present, first', async () => {
    await writeFile(join(modelsDir, 'ggml-test.en.bin'), '');
    const listen = offeredModels({ PARLEY_MODELS_DIR: modelsDir }).listen;
    assert.deepEqual(listen[0], { id: 'ggml-test.en.bin', name: 'whisper.cpp ggml-test.en.bin (local)', provider: 'whisper' });
    await rm(join(modelsDir, 'ggml-test.en.bin'));
  });

  it('asks for the same key as the agent paths when keys are set', async () => {
    const { server, base } = await serve(['k1'], { PARLEY_MODELS_DIR: modelsDir });
    try {
      const url = `${base}/v1/agent/settings/think/models`;
      const refused = await fetch(url);
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { err_code: string }).err_code, 'INVALID_AUTH');
      assert.equal((await fetch(url, { headers: { authorization: 'Token k2' } })).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: 'Token k1' } })).status, 200);
      assert.equal((await fetch(`${url}?token=k1`)).status, 200);
      // A browser on another origin asks before sending the header.
      const preflight = await fetch(url, { method: 'OPTIONS' });
      assert.equal(preflight.status, 204);
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    } finally {
      await server.close();
    }
  });
});
