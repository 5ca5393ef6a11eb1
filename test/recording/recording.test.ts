/**
 * Recordings of agent sessions (docs/recordings.md): a stereo WAV written as the session goes
 * and a JSON transcript, with the scripted providers (orchestration) on a real server and a
 * real WebSocket client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import type { AgentTurn, Transcript } from '../../src/recording/transcript.js';
import { AgentSocket, silence } from '../support/agent-socket.js';
import { firstLoud, readStereoWav } from '../support/recording.js';
import { startTestServer } from '../support/test-server.js';

const STORY = 'Once upon a time there was a recorded agent. It spoke for a good while so that the file could grow. Every sentence took a while to say.';

/** The files of the one recording in `dir`, once its transcript says it ended. */
async function finished(dir: string, timeoutMs = 10_000): Promise<{ transcript: Transcript; wav: string }> {
  for (let waited = 0; ; waited += 50) {
    const json = readdirSync(dir).find((name) => name.endsWith('.json'));
    if (json !== undefined) {
      const transcript = JSON.parse(readFileSync(join(dir, json), 'utf8')) as Transcript;
      if (transcript.endedAt !== null) return { transcript, wav: join(dir, transcript.audio.file) };
    }
    if (waited > timeoutMs) throw new Error('the recording did not finish');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function tone(ms: number): Buffer {
  const samples = new Int16Array((ms * 16000) / 1000);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(9000 * Math.sin((2 * Math.PI * 500 * i) / 16000));
  return Buffer.from(samples.buffer);
}

/** Sends PCM at real time, one 20 ms frame per 20 ms; returns the epoch time its first frame left. */
async function streamRealTime(socket: AgentSocket, pcm: Buffer): Promise<number> {
  const started = Date.now();
  const origin = performance.now();
  for (let frame = 0; frame * 640 < pcm.length; frame++) {
    const due = origin + frame * 20;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    socket.sendAudio(pcm.subarray(frame * 640, (frame + 1) * 640));
  }
  return started;
}

const settings = (greeting: string) => ({
  type: 'Settings',
  audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
  agent: {
    listen: { provider: { type: 'scripted', transcripts: ['please do the lookup'] } },
    think: { provider: { type: 'scripted' }, functions: [{ name: 'lookup', description: 'Looks something up', parameters: { type: 'object', properties: {} } }] },
    speak: { provider: { type: 'scripted' } },
    greeting,
  },
});

describe('recordings of agent sessions', () => {
  let dir: string;
  let server: RunningServer;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-rec-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a stereo WAV of the session: user left, agent right where the playout clock put it, and a transcript of its turns', async (t) => {
    const recordDir = join(dir, 'all');
    server = await startTestServer({ recordDir });
    const openedAt = Date.now();
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    let firstAudioAt: number | undefined;
    socket.ws.on('message', (_data, isBinary) => {
      if (isBinary) firstAudioAt ??= Date.now();
    });
    socket.send(settings('Hello, this call is recorded.'));
    await socket.waitFor('AgentAudioDone');
    const greeting = Buffer.concat(socket.received.flatMap((r) => (r.kind === 'audio' ? [r.bytes] : [])));
    const greetingSamples = new Int16Array(greeting.buffer.slice(greeting.byteOffset, greeting.byteOffset + greeting.byteLength));
    const toneSentAt = await streamRealTime(socket, Buffer.concat([tone(600), silence(800)]));
    const request = await socket.waitFor('FunctionCallRequest');
    const call = (request['functions'] as { id: string; name: string }[])[0] as { id: string; name: string };
    socket.send({ type: 'FunctionCallResponse', id: call.id, name: call.name, content: '42' });
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && String(e.content).startsWith('The result is'));
    await socket.nextEvent('AgentAudioDone');
    socket.close();
    await socket.closed();
    const closedAt = Date.now();
    const { transcript, wav } = await finished(recordDir);
    await server.close();

    const audio = readStereoWav(wav);
    assert.equal(audio.channels, 2);
    assert.equal(audio.sampleRate, 16000);
    assert.equal(audio.dataBytes, audio.fileBytes - 44, 'the header states the data the file holds');
    assert.equal(audio.riffBytes, audio.fileBytes - 8);
    const durationMs = audio.left.length / 16;
    assert.ok(Math.abs(durationMs - (closedAt - openedAt)) < 300, `${durationMs} ms recorded of a ${closedAt - openedAt} ms session`);
    assert.ok(Math.abs(durationMs - (transcript.durationMs ?? 0)) < 50);

    // The agent's first sound: where the client heard it (first frame's arrival plus its offset in the audio).
    const agentAt = transcript.startedAtEpochMs + firstLoud(audio.right) / 16;
    const heardAt = (firstAudioAt ?? 0) + firstLoud(greetingSamples) / 16;
    t.diagnostic(`agent offset ${(agentAt - heardAt).toFixed(1)} ms, duration ${durationMs} ms of ${closedAt - openedAt} ms`);
    assert.ok(Math.abs(agentAt - heardAt) <= 40, `agent audio recorded at ${agentAt - heardAt} ms from where it played`);
    // The user's first sound: the frame that carried it was captured in the 20 ms before it was sent.
    const userAt = transcript.startedAtEpochMs + firstLoud(audio.left) / 16;
    t.diagnostic(`user offset ${(userAt - (toneSentAt - 20)).toFixed(1)} ms`);
    assert.ok(Math.abs(userAt - (toneSentAt - 20)) <= 40, `user audio recorded ${userAt - (toneSentAt - 20)} ms from when it was sent`);
    assert.equal(firstLoud(audio.left.subarray(0, Math.max(0, firstLoud(audio.left) - 1))), -1, 'no agent audio leaks into the user channel');

    const [hello, user, reply] = transcript.turns;
    assert.deepEqual({ role: hello?.role, said: (hello as AgentTurn).said, heard: (hello as AgentTurn).heard }, { role: 'agent', said: ['Hello, this call is recorded.'], heard: ['Hello, this call is recorded.'] });
    assert.deepEqual({ role: user?.role, text: user?.role === 'user' ? user.text : '' }, { role: 'user', text: 'please do the lookup' });
    assert.ok(reply?.role === 'agent');
    const answer = reply;
    assert.deepEqual(answer.functionCalls.map((c) => ({ name: c.name, response: c.response })), [{ name: 'lookup', response: '42' }]);
    assert.deepEqual(answer.said, ['The result is 42.']);
    assert.ok(answer.latency?.totalMs !== undefined && answer.latency.totalMs > 0, 'latency per turn');
    assert.ok(answer.atMs > (user?.atMs ?? Infinity) && (user?.atMs ?? 0) > (hello?.atMs ?? Infinity), 'turns in time order');
  });

  it('the WAV on disk is valid and at most a few seconds behind while the session runs', async () => {
    const recordDir = join(dir, 'live');
    server = await startTestServer({ recordDir });
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings(STORY));
    await socket.waitFor('SettingsApplied');
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const wav = readdirSync(recordDir).find((name) => name.endsWith('.wav')) as string;
    const live = readStereoWav(join(recordDir, wav));
    const elapsed = Date.now() - started;
    socket.close();
    await server.close();
    assert.equal(live.dataBytes, live.fileBytes - 44);
    assert.equal(live.riffBytes, live.fileBytes - 8);
    const writtenMs = live.left.length / 16;
    assert.ok(writtenMs >= elapsed - 2500, `${writtenMs} ms on disk after ${elapsed} ms`);
    assert.ok(firstLoud(live.right) >= 0, 'the agent audio so far is in it');
  });

  it('with PARLEY_RECORD=requested only sessions that ask are recorded', async () => {
    const recordDir = join(dir, 'requested');
    server = await startTestServer({ recordDir, record: 'requested' });
    for (const query of ['', '?record=true']) {
      const socket = await AgentSocket.open(`${server.url}/v1/agent/converse${query}`);
      socket.send(settings('Hi.'));
      await socket.waitFor('AgentAudioDone');
      socket.close();
      await socket.closed();
    }
    await server.close();
    const files = readdirSync(recordDir);
    assert.equal(files.filter((f) => f.endsWith('.wav')).length, 1);
    assert.equal(files.filter((f) => f.endsWith('.json')).length, 1);
    assert.ok(statSync(join(recordDir, files.find((f) => f.endsWith('.wav')) as string)).size > 44);
  });
});
