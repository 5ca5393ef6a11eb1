import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { startTestServer } from '../support/test-server.js';

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const GOOD_SETTINGS: Json = {
  type: 'Settings',
  audio: { input: { encoding: 'mulaw', sample_rate: 8000 }, output: { encoding: 'alaw', sample_rate: 8000, container: 'wav' } },
  agent: {
    listen: { provider: { type: 'scripted' } },
    think: { provider: { type: 'scripted' }, functions: [{ name: 'f', description: 'd' }] },
    speak: { provider: { type: 'scripted' } },
    greeting: 'Hi.',
  },
};

/** Frames a confused or hostile client might send once settings are applied. */
function hostileFrame(random: () => number): string | Uint8Array {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const choice = Math.floor(random() * 12);
  switch (choice) {
    case 0:
      return Uint8Array.from({ length: Math.floor(random() * 3000) }, () => Math.floor(random() * 256));
    case 1:
      return new Uint8Array(1);
    case 2:
      return '{"type":';
    case 3:
      return JSON.stringify({ type: pick(['InjectAgentMessage', 'InjectUserMessage', 'UpdatePrompt', 'FunctionCallResponse']), message: 42, content: { a: 1 } });
    case 4:
      return JSON.stringify({ type: 'InjectAgentMessage', message: '\u0000\uffff'.repeat(50), behavior: pick(['default', 'queue', 'interrupt']) });
    case 5:
      return JSON.stringify({ type: 'InjectUserMessage', content: pick(['tell me a story', '', '   ', '🎉'.repeat(300), 'call an unknown function']) });
    case 6:
      return JSON.stringify({ type: 'FunctionCallResponse', id: String(random()), content: 'x'.repeat(10_000) });
    case 7:
      return JSON.stringify({ type: 'UpdateSpeak', speak: { provider: { type: pick(['scripted', 'nope']) } } });
    case 8:
      return JSON.stringify({ type: 'UpdateListen', listen: { provider: { type: pick(['scripted', 'nope']), fail: random() < 0.5 } } });
    case 9:
      return JSON.stringify({ type: 'UpdateThink', think: [{ provider: { type: 'scripted', mode: pick(['fail', undefined]) } }] });
    case 10:
      return JSON.stringify({ type: pick(['KeepAlive', 'ForceEndTurn', 'Close']) });
    default:
      return JSON.stringify([null, true, { type: null }, 'Settings'][Math.floor(random() * 4)]);
  }
}

describe('hostile input', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 30_000 });
  });
  after(() => server.close());

  it('random and malformed frames end only their own session, each with a readable Error', async () => {
    const bystander = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    bystander.send(GOOD_SETTINGS);
    await bystander.waitFor('SettingsApplied');
    const random = rng(20261124);
    for (let run = 0; run < 30; run++) {
      const socket = await AgentSocket.open(`${server.url}/${run % 2 === 0 ? 'v1/agent/converse' : 'agent'}`);
      socket.send(GOOD_SETTINGS);
      await socket.waitFor('SettingsApplied');
      for (let i = 0; i < 25 && socket.closeCode === undefined; i++) {
        const frame = hostileFrame(random);
        if (typeof frame === 'string') socket.sendRaw(frame);
        else socket.sendAudio(frame);
      }
      await new Promise((r) => setTimeout(r, 30));
      for (const error of socket.events('Error')) {
        assert.equal(typeof error.code, 'string');
        assert.ok(String(error.description ?? error.message).length > 10, 'the error says what went wrong');
      }
      socket.close();
    }
    bystander.send({ type: 'InjectUserMessage', content: 'still here' });
    const reply = await bystander.waitFor('ConversationText', (e) => e.content === 'You said: still here.');
    assert.equal(reply.role, 'assistant');
    assert.deepEqual(bystander.events('Error'), []);
    bystander.close();
    const deadline = Date.now() + 5000;
    while (server.sessionCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.sessionCount(), 0, 'every session was freed');
  });
});
