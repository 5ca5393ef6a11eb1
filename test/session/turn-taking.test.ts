import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket, silence, streamAudio } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { thinkRequests } from '../support/scripted-providers.js';
import { heldEndpoint, heldRequests } from '../support/held-endpoint.js';
import { startTestServer } from '../support/test-server.js';

const GREETING = 'Hello there, this is a rather long greeting. It goes on for a while. And then some more. Still talking here.';
/** 16 kHz linear16 agent audio; the scripted voice speaks 40 ms per character. */
const BYTES_PER_MS = 32;
const MS_PER_CHAR = 40;

/** A loud 16 kHz tone: the scripted listener hears it as speech. */
function tone(ms: number): Buffer {
  const samples = new Int16Array((ms * 16000) / 1000);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000));
  return Buffer.from(samples.buffer);
}

function settings(listen: Record<string, unknown>, agent: Record<string, unknown> = {}): Json {
  return {
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
    agent: {
      listen: { provider: { type: 'scripted', ...listen } },
      think: { provider: { type: 'scripted', model: 'turn-taking' } },
      speak: { provider: { type: 'scripted' } },
      greeting: GREETING,
      ...agent,
    },
  };
}

const texts = (socket: AgentSocket, role: string): string[] =>
  socket.events('ConversationText').filter((e) => e.role === role).map((e) => String(e.content));

/** The whole greeting was sent, nothing dropped and nothing twice, and every sentence of it was heard whole. */
function assertWholeGreeting(socket: AgentSocket): void {
  const sentences = texts(socket, 'assistant');
  assert.equal(sentences.join(' '), GREETING);
  const expected = sentences.reduce((n, s) => n + s.length * MS_PER_CHAR * BYTES_PER_MS, 0);
  assert.ok(Math.abs(socket.audioBytes() - expected) <= 20 * BYTES_PER_MS, `${socket.audioBytes()} bytes of agent audio, ${expected} expected`);
  const heard = socket.events('History').filter((h) => h.role === 'assistant').map((h) => String(h.content));
  assert.deepEqual(heard, sentences);
}

describe('turn-taking', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
  });
  after(() => server.close());

  it('"mm-hmm" during agent speech does not interrupt and starts no turn', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings({ transcripts: ['mm-hmm'] }));
    await socket.waitFor('AgentStartedSpeaking');
    await socket.waitForAudio(1000 * BYTES_PER_MS);
    await streamAudio(socket, Buffer.concat([tone(600), silence(800)]), { speed: 2 });
    await socket.waitFor('AgentAudioDone');
    assert.deepEqual(socket.events('UserStartedSpeaking'), []);
    assert.deepEqual(texts(socket, 'user'), []);
    assert.deepEqual(socket.events('Warning'), [], 'no NO_SPEECH_RECOGNIZED either');
    assertWholeGreeting(socket);
    socket.close();
  });

  it('a short noise burst is a false interruption: the agent resumes, and the rest of the sentence is heard and committed', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    // An open language model finds a word in almost any sound (docs/turn-taking.md).
    socket.send(settings({ transcripts: ['the', 'next'] }, { think: { provider: { type: 'scripted', model: 'false-interruption' } } }));
    await socket.waitFor('AgentStartedSpeaking');
    await socket.waitForAudio(1000 * BYTES_PER_MS);
    await streamAudio(socket, Buffer.concat([tone(160), silence(800)]), { speed: 2 });
    await socket.waitFor('AgentAudioDone');
    assert.deepEqual(socket.events('UserStartedSpeaking'), []);
    assert.deepEqual(texts(socket, 'user'), []);
    assertWholeGreeting(socket);

    socket.send({ type: 'InjectUserMessage', content: 'next' });
    await socket.waitFor('ConversationText', (e) => e.content === 'You said: next.');
    const request = thinkRequests.filter((r) => r.label === 'scripted/false-interruption').at(-1);
    assert.deepEqual(request?.messages.filter((m) => m.role !== 'system'), [
      { role: 'assistant', content: GREETING },
      { role: 'user', content: 'next' },
    ]);
    socket.close();
  });

  it('a real question interrupts within 300 ms of its start in audio time, and the noise before it did not', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings({ transcripts: ['the', 'what time is it'], interim_after_ms: 200 }));
    await socket.waitFor('AgentStartedSpeaking');
    await socket.waitForAudio(500 * BYTES_PER_MS);
    await streamAudio(socket, Buffer.concat([tone(160), silence(800)]), { speed: 1 });
    // Real time, so that the agent's audio after this point measures the user's audio time.
    const before = socket.audioBytes();
    await streamAudio(socket, Buffer.concat([tone(1000), silence(800)]), { speed: 1 });
    await socket.waitFor('ConversationText', (e) => e.content === 'You said: what time is it.');
    assert.deepEqual(texts(socket, 'user'), ['what time is it'], 'the noise was no turn');
    assert.equal(socket.events('UserStartedSpeaking').length, 1);
    // Every greeting frame sent after the question began, up to the reply's first sentence.
    const afterStartMs = (agentAudioBefore(socket, (e) => e.content === 'You said: what time is it.') - before) / BYTES_PER_MS;
    assert.ok(afterStartMs <= 300, `the agent sent ${afterStartMs} ms of audio after the question began`);
    const heard = socket.events('History').filter((h) => h.role === 'assistant').map((h) => String(h.content)).join(' ');
    assert.ok(GREETING.startsWith(heard) && heard.length < GREETING.length, `only the heard part: "${heard}"`);
    socket.close();
  });

  it('a dictated phone number is not cut off at its pause', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings({ transcripts: ['my number is', 'five five five one two'] }, { greeting: undefined }));
    await socket.waitFor('SettingsApplied');
    await streamAudio(socket, Buffer.concat([tone(500), silence(1000), tone(500), silence(900)]), { speed: 2 });
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant');
    assert.deepEqual(texts(socket, 'user'), ['my number is five five five one two']);
    assert.deepEqual(texts(socket, 'assistant'), ['You said: my number is five five five one two.']);
    socket.close();
  });
});

/** Bytes of agent audio received before the first event that matches. */
function agentAudioBefore(socket: AgentSocket, match: (event: Json) => boolean): number {
  let bytes = 0;
  for (const r of socket.received) {
    if (r.kind === 'event' && match(r.event)) break;
    if (r.kind === 'audio') bytes += r.bytes.length;
  }
  return bytes;
}

describe('no dead air during slow tools', () => {
  let server: RunningServer;
  let functions: Awaited<ReturnType<typeof heldEndpoint>>;
  before(async () => {
    functions = await heldEndpoint();
    server = await startTestServer({ idleTimeoutMs: 60_000 });
  });
  after(async () => {
    await server.close();
    await functions.close();
  });

  it('the filler is spoken once during a slow server-side function, and is history as heard', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(
      settings(
        { filler_after_ms: 200 },
        {
          greeting: undefined,
          think: { provider: { type: 'scripted', model: 'filler' }, functions: [{ name: 'lookup', description: 'd', endpoint: { url: `${functions.url}/lookup` } }] },
        },
      ),
    );
    await socket.waitFor('SettingsApplied');
    socket.send({ type: 'InjectUserMessage', content: 'please lookup my order' });
    await socket.waitFor('History', (e) => e.role === 'assistant' && e.content === 'One moment.');
    // Well past the filler's delay again: it is still said only once.
    await new Promise((resolve) => setTimeout(resolve, 600));
    await heldRequests(functions.requests, 1);
    functions.requests[0]?.release(JSON.stringify({ found: 'it' }));
    await socket.waitFor('AgentAudioDone');
    assert.deepEqual(texts(socket, 'assistant'), ['One moment.', 'The result is {"found":"it"}.']);
    const order = socket.received
      .filter((r) => r.kind === 'event' && ['FunctionCallRequest', 'ConversationText', 'FunctionCallResponse', 'History'].includes(r.event.type))
      .map((r) => (r.kind === 'event' ? `${r.event.type}${typeof r.event.content === 'string' ? `:${r.event.content}` : ''}${Array.isArray(r.event.function_calls) ? ':calls' : ''}` : ''));
    assert.deepEqual(order, [
      'ConversationText:please lookup my order',
      'History:please lookup my order',
      'FunctionCallRequest',
      'ConversationText:One moment.',
      'History:One moment.',
      'FunctionCallResponse:{"found":"it"}',
      'History:calls',
      'ConversationText:The result is {"found":"it"}.',
      'History:The result is {"found":"it"}.',
    ]);
    socket.close();
  });
});
