/**
 * The neural tier through the whole server: model files present (here a random-weight GGUF the
 * test writes, whose favourite token is " hello") make the local LLM the stand-in for a keyless
 * `open_ai` and the default local think; /healthz says so.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import { AgentSocket } from '../support/agent-socket.js';
import { writeRandomLlamaGguf } from '../support/random-models/gguf.js';

describe('the neural tier, when its model files are present', () => {
  let parley: Parley;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-neural-'));
    const model = join(dir, 'random.gguf');
    writeRandomLlamaGguf(model, { favourite: 'Ġhello' });
    parley = await startParley({
      env: { PATH: process.env['PATH'], PARLEY_MODELS_DIR: dir, PARLEY_LLM_MODEL: model, PARLEY_LLM_THREADS: '1' },
      overrides: { port: 0 },
      logger: silentLogger(),
    });
  });
  after(() => parley.close());

  it('reports the LLM in /healthz and answers through it in place of a keyless open_ai', async () => {
    const health = (await (await fetch(`${parley.server.url.replace('ws', 'http')}/healthz`)).json()) as { engines: Record<string, string> };
    assert.equal(health.engines['think'], 'llama');
    const socket = await AgentSocket.open(`${parley.server.url}/v1/agent/converse`);
    socket.send({
      type: 'Settings',
      audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
      agent: {
        think: { provider: { type: 'open_ai', model: 'gpt-4o-mini', max_tokens: 8 }, prompt: 'Be brief.' },
        listen: { provider: { type: 'local' } },
        speak: { provider: { type: 'local' } },
      },
    });
    await socket.waitFor('SettingsApplied');
    const warning = await socket.waitFor('Warning', (w) => w.code === 'PROVIDER_SUBSTITUTED');
    assert.match(String(warning.description), /local llama engine stands in/);
    socket.send({ type: 'InjectUserMessage', content: 'Say something.' });
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant', 60_000);
    assert.match(String(reply.content), /^hello( hello)*/);
    await socket.waitFor('AgentAudioDone', () => true, 60_000);
    assert.ok(socket.audioBytes() > 0, 'the reply was spoken');
    assert.deepEqual(socket.events('Error'), []);
    socket.close();
  });
});
