/**
 * The offline agent says what it did not do: a turn without words ends visibly
 * (NO_SPEECH_RECOGNIZED), a prompt the rules engine will not follow is named (PROMPT_IGNORED),
 * and a neural engine without its model says how to get it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeClassicPools } from '../../src/runtime/classic-pools.js';
import { defaultProviders } from '../../src/runtime/default-providers.js';
import type { RunningServer } from '../../src/server/index.js';
import { createRulesThink } from '../../src/think/rules/rules-think.js';
import { AgentSocket, silence, streamAudio } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { scriptedProviders } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';

/** Loud enough for the scripted listener (RMS over 500), followed by the silence that ends the turn. */
function utterance(ms = 500): Buffer {
  const tone = Buffer.alloc(16 * ms * 2);
  for (let i = 0; i < tone.length / 2; i++) tone.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 220 * i) / 16000)), i * 2);
  return Buffer.concat([tone, silence(900)]);
}

function settings(agent: Record<string, unknown>): Json {
  return {
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
    agent: { listen: { provider: { type: 'scripted' } }, think: { provider: { type: 'scripted' } }, speak: { provider: { type: 'scripted' } }, ...agent },
  };
}

async function applied(server: RunningServer, message: Json): Promise<AgentSocket> {
  const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
  socket.send(message);
  await socket.waitFor('SettingsApplied');
  return socket;
}

const types = (socket: AgentSocket): string[] => socket.events().map((e) => (e.type === 'Warning' ? `Warning ${String(e.code)}` : e.type));

describe('a turn that yields no words', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
  });
  after(() => server.close());

  it('ends with NO_SPEECH_RECOGNIZED, leaves the user not speaking, and the next turn is answered', async () => {
    const socket = await applied(server, settings({ listen: { provider: { type: 'scripted', transcripts: ['', 'second words'] } } }));
    await streamAudio(socket, utterance(), { speed: 4 });
    const warning = await socket.waitFor('Warning', (w) => w.code === 'NO_SPEECH_RECOGNIZED');
    assert.match(String(warning.description), /no words were recognized/);
    const seen = types(socket);
    assert.ok(seen.indexOf('UserStartedSpeaking') < seen.indexOf('Warning NO_SPEECH_RECOGNIZED'), seen.join(', '));
    assert.deepEqual(socket.events('ConversationText'), [], 'no user text and no reply for a turn without words');

    socket.send({ type: 'InjectAgentMessage', message: 'Are you still there?' });
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && e.content === 'Are you still there?');
    await socket.waitFor('AgentAudioDone');
    assert.deepEqual(socket.events('InjectionRefused'), [], 'the user is no longer speaking');

    await streamAudio(socket, utterance(), { speed: 4 });
    await socket.waitFor('ConversationText', (e) => e.role === 'user' && e.content === 'second words');
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && e.content === 'You said: second words.');
    socket.close();
  });

  it('noise during agent speech is a false interruption: the agent goes on, with no NO_SPEECH_RECOGNIZED, and nothing waits after it', async () => {
    // docs/turn-taking.md#false-interruptions: the client never saw UserStartedSpeaking, so no warning is owed.
    const socket = await applied(server, settings({ listen: { provider: { type: 'scripted', transcripts: [''] } } }));
    socket.send({ type: 'InjectUserMessage', content: 'hello there' });
    await socket.waitFor('AgentStartedSpeaking');
    await streamAudio(socket, utterance(), { speed: 4 });
    await socket.waitFor('AgentAudioDone');
    assert.deepEqual(socket.events('UserStartedSpeaking'), []);
    assert.deepEqual(socket.events('Warning'), []);
    assert.deepEqual(socket.events('History').filter((h) => h.role === 'assistant').map((h) => h.content), ['You said: hello there.'], 'heard to its end');
    socket.send({ type: 'InjectAgentMessage', message: 'Sorry, go on.' });
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && e.content === 'Sorry, go on.');
    await socket.nextEvent('AgentAudioDone');
    assert.deepEqual(socket.events('InjectionRefused'), []);
    socket.close();
  });
});

describe('a prompt given to the rules engine', () => {
  let server: RunningServer;
  before(async () => {
    const providers = scriptedProviders();
    providers.think.register('rules', createRulesThink);
    server = await startTestServer({ idleTimeoutMs: 60_000 }, providers);
  });
  after(() => server.close());

  const rules = (prompt?: string): Json => settings({ think: { provider: { type: 'rules' }, ...(prompt === undefined ? {} : { prompt }) } });
  const ignored = (socket: AgentSocket): Json[] => socket.events('Warning').filter((w) => w.code === 'PROMPT_IGNORED');

  it('is named after SettingsApplied, with the ways to get an agent that follows it', async () => {
    const socket = await applied(server, rules('You are the receptionist of a dental practice.'));
    const warning = await socket.waitFor('Warning', (w) => w.code === 'PROMPT_IGNORED');
    for (const hint of [/agent\.think\.provider\.rules/, /parley models pull/, /Ollama/, /PARLEY_ALLOWED_HOSTS/, /OPENAI_BASE_URL/, /key/]) {
      assert.match(String(warning.description), hint);
    }
    const seen = types(socket);
    assert.ok(seen.indexOf('SettingsApplied') < seen.indexOf('Warning PROMPT_IGNORED'), seen.join(', '));
    socket.send({ type: 'InjectUserMessage', content: 'hello' });
    await socket.waitFor('AgentAudioDone');
    assert.equal(ignored(socket).length, 1, 'said once, not on every turn');
    socket.close();
  });

  it('is not sent for the default empty prompt; UpdatePrompt and UpdateThink that give one are named', async () => {
    const socket = await applied(server, rules());
    socket.send({ type: 'InjectUserMessage', content: 'hello' });
    await socket.waitFor('AgentAudioDone');
    assert.deepEqual(ignored(socket), []);

    socket.send({ type: 'UpdatePrompt', prompt: 'Only talk about teeth.' });
    await socket.waitFor('PromptUpdated');
    socket.send({ type: 'InjectUserMessage', content: 'what time is it' });
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && /^It is/.test(String(e.content)));
    const seen = types(socket);
    const warned = seen.indexOf('Warning PROMPT_IGNORED');
    assert.ok(warned > seen.indexOf('PromptUpdated') && warned < seen.lastIndexOf('ConversationText'), `the warning comes with the first reply that ignores it: ${seen.join(', ')}`);

    socket.send({ type: 'UpdateThink', think: { provider: { type: 'rules' }, prompt: 'You are a dentist.' } });
    await socket.waitFor('ThinkUpdated');
    await socket.waitFor('Warning', () => ignored(socket).length === 2);
    socket.send({ type: 'UpdateThink', think: { provider: { type: 'scripted' }, prompt: 'You are a dentist.' } });
    await socket.waitFor('ThinkUpdated', () => socket.events('ThinkUpdated').length === 2);
    socket.send({ type: 'InjectUserMessage', content: 'hello' });
    await socket.waitFor('ConversationText', (e) => e.content === 'You said: hello.');
    assert.equal(ignored(socket).length, 2, 'an LLM follows its prompt: no warning');
    socket.close();
  });
});

describe('a neural engine asked for without its model', () => {
  let server: RunningServer;
  before(async () => {
    const { providers } = defaultProviders({});
    const scripted = scriptedProviders();
    for (const [type, factory] of scripted.listen.entries()) providers.listen.register(type, factory);
    for (const [type, factory] of scripted.speak.entries()) providers.speak.register(type, factory);
    for (const [type, factory] of scripted.think.entries()) providers.think.register(type, factory);
    server = await startTestServer({ idleTimeoutMs: 60_000 }, providers);
  });
  after(async () => {
    await server.close();
    await closeClassicPools();
  });

  for (const [stage, type, model] of [
    ['listen', 'whisper', 'whisper-base.en'],
    ['think', 'llama', 'qwen2.5-1.5b-instruct-q4_k_m'],
    ['speak', 'sherpa', 'piper-en_US-libritts_r-medium'],
  ] as const) {
    it(`${stage} "${type}" is INVALID_SETTINGS naming \`parley models pull ${model}\``, async () => {
      const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
      socket.send(settings({ [stage]: { provider: { type } } }));
      const error = await socket.waitFor('Error');
      assert.equal(error.code, 'INVALID_SETTINGS');
      assert.ok(String(error.description).includes(`agent.${stage}.provider.type "${type}"`), String(error.description));
      assert.ok(String(error.description).includes(`parley models pull ${model}`), String(error.description));
      await socket.closed();
    });
  }
});
