/**
 * The product as `npm start` runs it, with no API keys and no network: an unmodified Deepgram
 * getting-started configuration (open_ai / nova-2 / aura-asteria-en) gets a spoken conversation
 * from the embedded local engines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { createLocalListen } from '../../src/listen/pocketsphinx/pocketsphinx-listen.js';
import { createFliteSpeak } from '../../src/speak/flite/flite-speak.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import { AgentSocket, silence, streamAudio } from '../support/agent-socket.js';
import { wordErrors } from '../support/wer.js';

/** A question spoken by a different flite voice (rms) than the agent's (slt for aura-asteria). */
async function spokenQuestion(text: string): Promise<Buffer> {
  const voice = createFliteSpeak({ provider: { type: 'flite', voice: 'rms' } }, { env: {}, logger: silentLogger(), warn: () => undefined });
  const chunks: Buffer[] = [];
  for await (const chunk of voice.synthesize(text, new AbortController().signal)) {
    assert.equal(chunk.sampleRate, 16000);
    chunks.push(Buffer.from(chunk.samples.buffer, chunk.samples.byteOffset, chunk.samples.byteLength));
  }
  voice.close?.();
  return Buffer.concat(chunks);
}

/**
 * Transcribes PCM16 16 kHz through the local listen engine (open vocabulary). The listener first
 * hears `primer` (one utterance, not reported), as a session has heard its caller before: a
 * session's first utterance is decoded from a cold start (src/listen/pocketsphinx/turn-pipeline.ts).
 */
async function transcribe(pcm: Buffer, primer: Buffer): Promise<string> {
  const listen = createLocalListen({ provider: { type: 'local', endpointing: 400 } }, { env: {}, logger: silentLogger(), warn: () => undefined });
  const texts: string[] = [];
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  // Done once no turn has ended for a while after the primer's and the reply's first: decoding
  // runs behind the audio on a busy machine (a fixed 2.5 s after the last write fell short where
  // pocketsphinx ran at a real-time factor of 0.52).
  let quiet: NodeJS.Timeout | undefined;
  const settle = (): void => {
    clearTimeout(quiet);
    quiet = setTimeout(finished, texts.length >= 2 ? 2500 : 30_000);
  };
  const stream = await listen.open({
    speechStarted: () => undefined,
    interim: () => undefined,
    endOfTurn: (text) => {
      texts.push(text);
      settle();
    },
    failed: (error) => assert.fail(error.message),
  });
  const samples = new Int16Array(new Uint8Array(Buffer.concat([primer, silence(1500), pcm, silence(1500)])).buffer);
  for (let i = 0; i < samples.length; i += 320) stream.write(samples.subarray(i, i + 320));
  settle();
  await done;
  stream.close();
  listen.close?.();
  assert.ok(texts.length >= 2, 'the primer and the reply were heard');
  return texts.slice(1).join(' ');
}

const GETTING_STARTED = {
  type: 'Settings',
  audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000, container: 'none' } },
  agent: {
    listen: { provider: { type: 'deepgram', model: 'nova-2' } },
    think: { provider: { type: 'open_ai', model: 'gpt-4o-mini' }, prompt: 'You are a friendly assistant.' },
    speak: { provider: { type: 'deepgram', model: 'aura-asteria-en' } },
    greeting: 'Hello! How can I help you today?',
  },
};

describe('the embedded offline agent', () => {
  let parley: Parley;
  before(async () => {
    parley = await startParley({ env: { PATH: process.env['PATH'] }, overrides: { port: 0 }, logger: silentLogger() });
  });
  after(() => parley.close());

  it('reports its engines in /healthz', async () => {
    const health = (await (await fetch(`${parley.server.url.replace('ws', 'http')}/healthz`)).json()) as Record<string, unknown>;
    assert.deepEqual(health['engines'], { listen: 'pocketsphinx', think: 'rules', speak: 'flite' });
  });

  it('answers a spoken question with speech that transcribes back to its text', async () => {
    const socket = await AgentSocket.open(`${parley.server.url}/v1/agent/converse`);
    socket.send(GETTING_STARTED);
    await socket.waitFor('SettingsApplied');
    await socket.waitFor('AgentAudioDone');
    const substituted = socket.events('Warning').filter((w) => w.code === 'PROVIDER_SUBSTITUTED');
    assert.equal(substituted.length, 3, 'listen, think and speak each say that a local engine stands in');
    assert.equal(socket.events('Warning').filter((w) => w.code === 'PROMPT_IGNORED').length, 1, 'the rules engine says it does not follow the prompt');

    const start = socket.received.length;
    const question = await spokenQuestion('What is your name?');
    await streamAudio(socket, Buffer.concat([question, silence(1500)]), { speed: 1 });
    const user = await socket.waitFor('ConversationText', (e) => e.role === 'user');
    assert.equal(user.content, 'what is your name');
    await socket.nextEvent('AgentAudioDone');
    const after = socket.received.slice(start).flatMap((r) => (r.kind === 'event' && r.event.type === 'ConversationText' && r.event.role === 'assistant' ? [String(r.event.content)] : []));
    const reply = after.join(' ');
    assert.match(reply, /I am Parley/);
    const audio = Buffer.concat(socket.received.slice(start).flatMap((r) => (r.kind === 'audio' ? [r.bytes] : [])));
    assert.ok(audio.length > 16000, 'the answer was spoken');
    const heard = await transcribe(audio, question);
    const { errors, words } = wordErrors(reply, heard);
    const wer = errors / words;
    assert.ok(wer < 0.5, `the spoken answer transcribes back (WER ${wer.toFixed(2)}: "${heard}")`);
    socket.close();
  });
});
