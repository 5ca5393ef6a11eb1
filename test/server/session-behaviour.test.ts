import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodeMulaw } from '../../src/audio/g711.js';
import { StreamingResampler } from '../../src/audio/resampler.js';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket, silence, streamAudio } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { fixturePath } from '../support/fixtures.js';
import { thinkRequests } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';

const FUNCTIONS = [
  { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { query: { type: 'string' } } } },
  { name: 'get_time', description: 'Time', parameters: { type: 'object', properties: {} } },
];

function settings(agent: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Json {
  return {
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
    agent: {
      listen: { provider: { type: 'scripted', transcripts: ['first words', 'second words'] } },
      think: { provider: { type: 'scripted', model: 'behaviour' }, prompt: 'Base prompt.', functions: FUNCTIONS },
      speak: { provider: { type: 'scripted' } },
      ...agent,
    },
    ...extra,
  };
}

async function applied(server: RunningServer, message: Json = settings()): Promise<AgentSocket> {
  const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
  socket.send(message);
  await socket.waitFor('SettingsApplied');
  return socket;
}

const lastRequest = (label: string) => thinkRequests.filter((r) => r.label === label).at(-1);

describe('session behaviour', () => {
  let server: RunningServer;
  let speech: Buffer;
  let endpointUrl = '';
  const endpoint = createServer((_req, res) => res.writeHead(200).end('ok'));

  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
    speech = Buffer.concat([readFileSync(await fixturePath('goforward')), silence(900)]);
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/fn`;
  });
  after(async () => {
    endpoint.close();
    await server.close();
  });

  it('barge-in while a client-side call is pending cancels it, and a late response is ignored', async () => {
    const socket = await applied(server);
    socket.send({ type: 'InjectUserMessage', content: 'what is the get weather forecast' });
    const request = await socket.waitFor('FunctionCallRequest');
    const [call] = request.functions as Json[];
    await streamAudio(socket, speech, { speed: 6 });
    await socket.waitFor('UserStartedSpeaking');
    const cancelled = await socket.waitFor('FunctionCallCancelled');
    assert.deepEqual(cancelled.functions, [{ id: call?.id, name: 'get_weather' }]);
    socket.send({ type: 'FunctionCallResponse', id: String(call?.id), name: 'get_weather', content: 'too late' });
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant');
    assert.equal(reply.content, 'You said: first words.');
    await socket.waitFor('AgentAudioDone');
    assert.ok(!socket.events('ConversationText').some((e) => String(e.content).includes('too late')));
    assert.ok(!socket.events('History').some((e) => Array.isArray(e.function_calls)), 'a cancelled call never enters the history');
    socket.close();
  });

  it('several client-side calls in one turn are announced together and answered together', async () => {
    const socket = await applied(server);
    socket.send({ type: 'InjectUserMessage', content: 'get weather and get time' });
    const request = await socket.waitFor('FunctionCallRequest');
    const calls = request.functions as Json[];
    assert.deepEqual(calls.map((c) => [c.name, c.client_side]), [['get_weather', true], ['get_time', true]]);
    socket.send({ type: 'FunctionCallResponse', id: String(calls[1]?.id), name: 'get_time', content: 'noon' });
    socket.send({ type: 'FunctionCallResponse', id: String(calls[0]?.id), name: 'get_weather', content: 'sunny' });
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant');
    assert.equal(reply.content, 'The result is sunny and noon.');
    const history = await socket.waitFor('History', (e) => Array.isArray(e.function_calls));
    assert.deepEqual((history.function_calls as Json[]).map((c) => c.response), ['sunny', 'noon']);
    socket.close();
  });

  it('tool rounds are bounded: after five rounds the LLM must answer without tools', async () => {
    const socket = await applied(
      server,
      settings({ think: { provider: { type: 'scripted', model: 'looping', mode: 'always_tool' }, functions: [{ name: 'lookup', description: 'd', endpoint: { url: endpointUrl } }] } }),
    );
    const before = thinkRequests.filter((r) => r.label === 'scripted/looping').length;
    socket.send({ type: 'InjectUserMessage', content: 'please lookup something' });
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant');
    assert.match(String(reply.content), /^The result is ok/);
    const requests = thinkRequests.filter((r) => r.label === 'scripted/looping').slice(before);
    assert.equal(requests.length, 6);
    assert.deepEqual(requests.map((r) => r.tools.length), [1, 1, 1, 1, 1, 0]);
    assert.equal(socket.events('FunctionCallResponse').length, 5);
    socket.close();
  });

  it('UpdatePrompt appends to the prompt the LLM sees; UpdateThink replaces prompt and functions', async () => {
    const socket = await applied(server, settings({ think: { provider: { type: 'scripted', model: 'prompts' }, prompt: 'Base prompt.' } }));
    socket.send({ type: 'UpdatePrompt', prompt: 'Also be kind.' });
    await socket.waitFor('PromptUpdated');
    socket.send({ type: 'InjectUserMessage', content: 'hello' });
    await socket.waitFor('AgentAudioDone');
    assert.deepEqual(lastRequest('scripted/prompts')?.messages[0], { role: 'system', content: 'Base prompt.\nAlso be kind.' });
    socket.send({ type: 'UpdateThink', think: { provider: { type: 'scripted', model: 'replaced' }, prompt: 'New prompt.', functions: [FUNCTIONS[1]] } });
    await socket.waitFor('ThinkUpdated');
    socket.send({ type: 'InjectUserMessage', content: 'again' });
    await socket.waitFor('ConversationText', (e) => e.content === 'You said: again.');
    const request = lastRequest('scripted/replaced');
    assert.deepEqual(request?.messages[0], { role: 'system', content: 'New prompt.' });
    assert.deepEqual(request?.tools, ['get_time']);
    assert.ok(request?.messages.some((m) => m.role === 'user' && m.content === 'hello'), 'the conversation carries over');
    socket.close();
  });

  it('UpdatePrompt cannot grow the prompt past its limit: the first 25,000 characters stay, with PROMPT_TOO_LONG', async () => {
    const socket = await applied(server, settings({ think: { provider: { type: 'scripted', model: 'prompt-limit' }, prompt: 'Base prompt.' } }));
    for (const fill of ['a', 'b', 'c', 'd']) {
      const updated = socket.nextEvent('PromptUpdated');
      socket.send({ type: 'UpdatePrompt', prompt: fill.repeat(10_000) });
      await updated;
    }
    socket.send({ type: 'InjectUserMessage', content: 'hello' });
    await socket.waitFor('AgentAudioDone');
    const warnings = socket.events('Warning').filter((e) => e.code === 'PROMPT_TOO_LONG');
    assert.equal(warnings.length, 2, 'the third and the fourth update were cut');
    assert.match(String(warnings[0]?.description), /30015 characters; only the first 25000 are used/);
    const system = lastRequest('scripted/prompt-limit')?.messages[0]?.content;
    assert.equal(typeof system === 'string' ? system.length : -1, 25_000);
    assert.ok(typeof system === 'string' && system.startsWith(`Base prompt.\n${'a'.repeat(10_000)}\n${'b'.repeat(10_000)}\nccc`));
    socket.close();
  });

  it('context messages are preloaded into what the LLM sees', async () => {
    const socket = await applied(
      server,
      settings({
        think: { provider: { type: 'scripted', model: 'context' }, prompt: 'P.' },
        context: { messages: [{ type: 'History', role: 'user', content: 'my name is Ada' }, { type: 'History', role: 'assistant', content: 'Hello Ada.' }] },
      }),
    );
    socket.send({ type: 'InjectUserMessage', content: 'what is my name' });
    await socket.waitFor('AgentAudioDone');
    assert.deepEqual(lastRequest('scripted/context')?.messages, [
      { role: 'system', content: 'P.' },
      { role: 'user', content: 'my name is Ada' },
      { role: 'assistant', content: 'Hello Ada.' },
      { role: 'user', content: 'what is my name' },
    ]);
    socket.close();
  });

  it('UpdateListen swaps the listener for the next turn', async () => {
    const socket = await applied(server);
    socket.send({ type: 'UpdateListen', listen: { provider: { type: 'scripted', transcripts: ['from the new listener'] } } });
    await socket.waitFor('ListenUpdated');
    await streamAudio(socket, speech, { speed: 6 });
    const heard = await socket.waitFor('ConversationText', (e) => e.role === 'user');
    assert.equal(heard.content, 'from the new listener');
    socket.close();
  });

  it('flags.history:false sends no History events', async () => {
    const socket = await applied(server, settings({ greeting: 'Hi.' }, { flags: { history: false } }));
    await socket.waitFor('AgentAudioDone');
    socket.send({ type: 'InjectUserMessage', content: 'hello' });
    await socket.waitFor('ConversationText', (e) => e.content === 'You said: hello.');
    await socket.nextEvent('AgentAudioDone');
    assert.deepEqual(socket.events('ConversationText').map((e) => e.content), ['Hi.', 'hello', 'You said: hello.']);
    assert.deepEqual(socket.events('History'), []);
    socket.close();
  });

  it('telephony: mulaw 8 kHz in and out', async () => {
    const socket = await applied(
      server,
      settings({}, { audio: { input: { encoding: 'mulaw', sample_rate: 8000 }, output: { encoding: 'mulaw', sample_rate: 8000 } } }),
    );
    const resampler = await StreamingResampler.create(16000, 8000);
    const pcm16k = new Int16Array(new Uint8Array(speech).buffer);
    const narrow = Int16Array.from([...resampler.process(pcm16k), ...resampler.flush()]);
    resampler.destroy();
    await streamAudio(socket, Buffer.from(encodeMulaw(narrow)), { sampleRate: 8000, bytesPerSample: 1, speed: 6 });
    const heard = await socket.waitFor('ConversationText', (e) => e.role === 'user');
    assert.equal(heard.content, 'first words');
    await socket.waitFor('AgentAudioDone');
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant');
    // The scripted voice speaks 40 ms per character: 8 bytes per ms of mulaw at 8 kHz.
    assert.ok(Math.abs(socket.audioBytes() - String(reply.content).length * 40 * 8) < 400);
    socket.close();
  });

  it('a Close message (Go SDK) ends the session with a normal close', async () => {
    const socket = await applied(server);
    socket.send({ type: 'Close' });
    assert.equal(await socket.closed(), 1000);
    assert.deepEqual(socket.events('Error'), []);
  });
});
