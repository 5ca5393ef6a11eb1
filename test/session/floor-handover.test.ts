import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { thinkRequests } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';

const GREETING = 'Hello there, this is a rather long greeting. It goes on for a while. And then some more. Still talking here.';
/** 16 kHz linear16: bytes per second of agent audio. */
const BYTES_PER_S = 32_000;

function settings(model: string): Json {
  return {
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
    agent: {
      listen: { provider: { type: 'scripted' } },
      think: { provider: { type: 'scripted', model } },
      speak: { provider: { type: 'scripted' } },
      greeting: GREETING,
    },
  };
}

describe('handing over the floor', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
  });
  after(() => server.close());

  it('race: a user turn landing in the same tick as the barge-in still gets the heard part of the interrupted reply into its LLM request', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings('handover'));
    await socket.waitFor('AgentStartedSpeaking');
    await socket.waitForAudio(BYTES_PER_S);
    // InjectUserMessage interrupts and starts the next reply in one step.
    socket.send({ type: 'InjectUserMessage', content: 'hi' });
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && String(e.content).startsWith('You said'));

    const request = thinkRequests.filter((r) => r.label === 'scripted/handover').at(-1);
    assert.ok(request !== undefined);
    const roles = request.messages.filter((m) => m.role !== 'system').map((m) => m.role);
    assert.deepEqual(roles, ['assistant', 'user'], 'what the user heard, then what the user said');
    const heard = request.messages.find((m) => m.role === 'assistant')?.content ?? '';
    assert.ok(heard.length > 0 && GREETING.startsWith(heard), `heard "${heard}" is the start of the greeting`);
    assert.ok(heard.length < GREETING.length, 'only the heard part');

    const history = socket.events('History').map((h) => `${String(h.role)}: ${String(h.content)}`);
    const userAt = history.indexOf('user: hi');
    assert.ok(userAt > 0, history.join('\n'));
    assert.ok(history.slice(0, userAt).every((line) => line.startsWith('assistant: ')), 'the heard greeting comes before the user turn');
    socket.close();
  });
});
