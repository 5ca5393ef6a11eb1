import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket, silence, streamAudio } from '../support/agent-socket.js';
import { fixturePath } from '../support/fixtures.js';
import { scriptedPitchHz } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';

const SESSIONS = 50;

/** Dominant frequency of PCM16 by zero crossings. */
function pitchOf(pcm: Buffer, sampleRate: number): number {
  const samples = new Int16Array(new Uint8Array(pcm).buffer);
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if (((samples[i - 1] ?? 0) < 0) !== ((samples[i] ?? 0) < 0)) crossings++;
  return (crossings / 2) * (sampleRate / samples.length);
}

describe('50 concurrent sessions in one process', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 120_000, maxSessions: 100 });
  });
  after(() => server.close());

  it('each gets its own transcript, reply and audio: no cross-talk', async () => {
    const speech = Buffer.concat([readFileSync(await fixturePath('goforward')), silence(1000)]);
    const sockets = await Promise.all(
      Array.from({ length: SESSIONS }, async (_, i) => {
        const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
        socket.send({
          type: 'Settings',
          audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
          agent: {
            listen: { provider: { type: 'scripted', transcripts: [`caller number ${i} speaking`] } },
            think: { provider: { type: 'scripted' } },
            speak: { provider: { type: 'scripted' } },
          },
        });
        await socket.waitFor('SettingsApplied');
        return socket;
      }),
    );
    assert.equal(server.sessionCount(), SESSIONS);
    await Promise.all(sockets.map((socket) => streamAudio(socket, speech, { speed: 2 })));
    await Promise.all(sockets.map((socket) => socket.waitFor('AgentAudioDone', () => true, 60_000)));
    sockets.forEach((socket, i) => {
      const said = socket.events('ConversationText').map((e) => `${String(e.role)}: ${String(e.content)}`);
      assert.deepEqual(said, [`user: caller number ${i} speaking`, `assistant: You said: caller number ${i} speaking.`]);
      const audio = Buffer.concat(socket.received.flatMap((r) => (r.kind === 'audio' ? [r.bytes] : [])));
      const expected = scriptedPitchHz(`You said: caller number ${i} speaking.`);
      assert.ok(Math.abs(pitchOf(audio, 16000) - expected) < 8, `session ${i} hears its own reply (${pitchOf(audio, 16000).toFixed(0)} Hz, expected ${expected} Hz)`);
      socket.close();
    });
    const deadline = Date.now() + 5000;
    while (server.sessionCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.sessionCount(), 0);
  });
});
