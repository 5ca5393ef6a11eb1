import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket, silence, streamAudio } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { fixturePath } from '../support/fixtures.js';
import { startTestServer } from '../support/test-server.js';

function settings(extra: Record<string, unknown> = {}, agent: Record<string, unknown> = {}): Json {
  return {
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000, container: 'none' } },
    agent: {
      listen: { provider: { type: 'scripted', transcripts: ['go forward ten meters', 'tell me a story', 'how are you'] } },
      think: { provider: { type: 'scripted' }, prompt: 'You are a test agent.' },
      speak: { provider: { type: 'scripted' } },
      ...agent,
    },
    ...extra,
  };
}

const order = (socket: AgentSocket): string[] => socket.received.map((r) => (r.kind === 'audio' ? 'audio' : r.event.type)).filter((t, i, all) => t !== 'audio' || all[i - 1] !== 'audio');

describe('a V1 conversation over a raw WebSocket', () => {
  let server: RunningServer;
  let speech: Buffer;
  before(async () => {
    server = await startTestServer();
    speech = readFileSync(await fixturePath('goforward'));
  });
  after(() => server.close());

  it('greets, hears the user, answers, in protocol order', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings({}, { greeting: 'Hello there.' }));
    await socket.waitFor('AgentAudioDone');
    await socket.waitFor('LatencyReport');
    assert.deepEqual(order(socket), ['Welcome', 'SettingsApplied', 'ConversationText', 'AgentStartedSpeaking', 'audio', 'History', 'AgentAudioDone', 'LatencyReport']);
    await streamAudio(socket, Buffer.concat([speech, silence(1200)]), { speed: 8 });
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && String(e.content).startsWith('You said'));
    assert.equal(reply.content, 'You said: go forward ten meters.');
    await socket.nextEvent('AgentAudioDone');
    const types = order(socket);
    const userAt = types.indexOf('UserStartedSpeaking');
    assert.ok(userAt > 0);
    assert.deepEqual(types.slice(userAt, userAt + 3), ['UserStartedSpeaking', 'ConversationText', 'History']);
    assert.ok(socket.audioBytes() > 0);
    socket.close();
    await socket.closed();
  });
});
