/**
 * Cloud providers through the whole server, against local fakes that speak their wire formats:
 * fallback chains (the first LLM and the first voice fail, the user hears the second), and a
 * barge-in by real speech that closes the LLM's HTTP stream.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import { AgentSocket, silence, streamAudio } from '../support/agent-socket.js';
import { fixturePath } from '../support/fixtures.js';
import { HttpFake, json, sseEvent, startSse } from '../providers/fakes/http.js';

const VOICE_HZ = 440;
const VOICE_RATE = 24000;

function chatChunk(content: string, finish: string | null = null): unknown {
  return { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: finish }] };
}

/** An OpenAI-compatible server (Ollama, vLLM) streaming `sentences`, `gapMs` apart. */
function streamChat(res: ServerResponse, sentences: string[], gapMs: number): void {
  startSse(res);
  let i = 0;
  const next = (): void => {
    if (res.destroyed) return;
    const sentence = sentences[i++];
    if (sentence === undefined) {
      sseEvent(res, chatChunk('', 'stop'));
      sseEvent(res, '[DONE]');
      res.end();
      return;
    }
    sseEvent(res, chatChunk(sentence));
    setTimeout(next, gapMs);
  };
  next();
}

/** Deepgram's TTS answers raw linear16 at 24 kHz; this one always says a 440 Hz tone. */
function speakTone(res: ServerResponse, text: string): void {
  const samples = Math.round((text.length * 50 * VOICE_RATE) / 1000);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * VOICE_HZ * i) / VOICE_RATE)), i * 2);
  res.writeHead(200, { 'content-type': 'audio/l16' });
  res.end(pcm);
}

function pitchOf(pcm: Buffer, sampleRate: number): number {
  let crossings = 0;
  for (let i = 2; i + 1 < pcm.length; i += 2) if ((pcm.readInt16LE(i - 2) < 0) !== (pcm.readInt16LE(i) < 0)) crossings++;
  return (crossings / 2) * (sampleRate / (pcm.length / 2));
}

describe('cloud providers through the server', () => {
  let parley: Parley;
  let brokenLlm: HttpFake;
  let llm: HttpFake;
  let brokenVoice: HttpFake;
  let voice: HttpFake;

  before(async () => {
    [brokenLlm, llm, brokenVoice, voice] = await Promise.all([HttpFake.start(), HttpFake.start(), HttpFake.start(), HttpFake.start()]);
    brokenLlm.handler = (_req, res) => json(res, 500, { error: { message: 'The server had an error', type: 'server_error' } });
    brokenVoice.handler = (_req, res) => json(res, 503, { error: { message: 'overloaded' } });
    voice.handler = (_req, res, body) => speakTone(res, String((JSON.parse(body) as { text: string }).text));
    parley = await startParley({ env: { PATH: process.env['PATH'], PARLEY_ALLOWED_HOSTS: '127.0.0.1' }, overrides: { port: 0, idleTimeoutMs: 60_000 }, logger: silentLogger() });
  });
  after(async () => {
    await parley.close();
    await Promise.all([brokenLlm, llm, brokenVoice, voice].map((fake) => fake.close()));
  });

  async function session(): Promise<AgentSocket> {
    const socket = await AgentSocket.open(`${parley.server.url}/v1/agent/converse`);
    socket.send({
      type: 'Settings',
      audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 24000 } },
      agent: {
        listen: { provider: { type: 'local' } },
        think: [
          { provider: { type: 'open_ai', model: 'primary', timeout_ms: 5000 }, endpoint: { url: `${brokenLlm.url}/v1/chat/completions`, headers: { authorization: 'Bearer a' } } },
          { provider: { type: 'open_ai', model: 'backup', timeout_ms: 5000 }, endpoint: { url: `${llm.url}/v1/chat/completions`, headers: { authorization: 'Bearer b' } } },
        ],
        speak: [
          { provider: { type: 'open_ai', model: 'tts-1', voice: 'alloy', timeout_ms: 5000 }, endpoint: { url: `${brokenVoice.url}/v1/audio/speech`, headers: { authorization: 'Bearer c' } } },
          { provider: { type: 'deepgram', model: 'aura-2-thalia-en', timeout_ms: 5000 }, endpoint: { url: voice.url, headers: { authorization: 'Token d' } } },
        ],
      },
    });
    await socket.waitFor('SettingsApplied');
    return socket;
  }

  it('the first LLM and the first voice fail with warnings; the user hears the second of each', async () => {
    llm.handler = (_req, res) => streamChat(res, ['Hello from ', 'the backup model.'], 10);
    const socket = await session();
    socket.send({ type: 'InjectUserMessage', content: 'Hi there' });
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant');
    assert.equal(reply.content, 'Hello from the backup model.');
    await socket.waitFor('AgentAudioDone');
    const warnings = socket.events('Warning').map((w) => `${String(w.code)}: ${String(w.description)}`);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0] ?? '', /^THINK_REQUEST_FAILED: open_ai\/primary failed: .*500/);
    assert.match(warnings[1] ?? '', /^SPEAK_REQUEST_FAILED: .*503/);
    const audio = Buffer.concat(socket.received.flatMap((r) => (r.kind === 'audio' ? [r.bytes] : [])));
    assert.ok(Math.abs(audio.length / 48 - String(reply.content).length * 50) < 60, 'all of the backup voice arrived');
    assert.ok(Math.abs(pitchOf(audio, VOICE_RATE) - VOICE_HZ) < 5, 'it is the backup voice');
    assert.equal((JSON.parse(llm.lastRequest.body) as { model?: unknown }).model, 'backup');
    socket.close();
  });

  it('barge-in by real speech closes the LLM stream still talking', async () => {
    llm.reset();
    const story = Array.from({ length: 40 }, (_, i) => `This is sentence number ${i + 1} of a long answer. `);
    llm.handler = (_req, res) => streamChat(res, story, 250);
    const socket = await session();
    socket.send({ type: 'InjectUserMessage', content: 'Tell me everything' });
    await socket.waitFor('AgentStartedSpeaking');
    const aborted = llm.waitForAbort();
    await streamAudio(socket, Buffer.concat([readFileSync(await fixturePath('goforward')), silence(300)]), { speed: 1 });
    await socket.waitFor('UserStartedSpeaking');
    await aborted;
    const said = socket.events('ConversationText').filter((e) => e.role === 'assistant').length;
    assert.ok(said < story.length, 'the rest of the answer was never spoken');
    socket.close();
  });
});
