import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { retainedMb } from '../support/memory.js';
import { thinkRequests } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';

const SESSIONS = 11;
const UPDATES_PER_SESSION = 60;
/** Just under the default text frame limit (256 KiB), so every update is accepted as a message. */
const APPEND = 'x'.repeat(250_000);

function settings(model: string): Json {
  return {
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
    agent: {
      listen: { provider: { type: 'scripted' } },
      think: { provider: { type: 'scripted', model }, prompt: 'You are terse.' },
      speak: { provider: { type: 'scripted' } },
    },
  };
}

describe('clients trying to grow the prompt without end', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
  });
  after(() => server.close());

  it(`${SESSIONS} sessions appending ${(UPDATES_PER_SESSION * APPEND.length) / 1e6} MB each: each prompt stays at 25,000 characters, memory stays flat, every session still answers`, async () => {
    const before = await retainedMb();
    const sockets = await Promise.all(
      Array.from({ length: SESSIONS }, async (_, i) => {
        const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
        socket.send(settings(`grow-${i}`));
        await socket.waitFor('SettingsApplied');
        return socket;
      }),
    );
    await Promise.all(
      sockets.map(async (socket) => {
        for (let n = 0; n < UPDATES_PER_SESSION; n++) socket.send({ type: 'UpdatePrompt', prompt: APPEND });
        await socket.waitFor('PromptUpdated', () => socket.events('PromptUpdated').length >= UPDATES_PER_SESSION, 60_000);
      }),
    );
    const grownMb = (await retainedMb()) - before;

    await Promise.all(
      sockets.map(async (socket, i) => {
        socket.send({ type: 'InjectUserMessage', content: 'hello' });
        const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant', 30_000);
        assert.match(String(reply.content), /hello/i);
        const warnings = socket.events('Warning').filter((w) => w.code === 'PROMPT_TOO_LONG');
        assert.equal(warnings.length, UPDATES_PER_SESSION, 'every append past the limit is reported');
        const system = thinkRequests.filter((r) => r.label === `scripted/grow-${i}`).at(-1)?.messages[0]?.content;
        assert.equal(typeof system === 'string' ? system.length : -1, 25_000);
        assert.deepEqual(socket.events('Error'), []);
      }),
    );
    assert.ok(grownMb < 100, `the server grew by ${grownMb.toFixed(0)} MB`);
    for (const socket of sockets) socket.close();
  });
});
