/**
 * Client conformance against the real Parley server (scripted providers stand in for the
 * engines): every message the client sends and every V1 event it can receive.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentClient, UtteranceRecorder } from '../../src/client/index.js';
import type { AgentSettings, Utterance } from '../../src/client/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { fixturePath } from '../support/fixtures.js';
import { scriptedProviders } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';
import { Recorder } from './support/recorder.js';

const KEY = 'client-key';
const TRANSCRIPTS = ['go forward ten meters', 'stop right there'];

function settings(functionUrl: string): AgentSettings {
  return {
    audio: {
      input: { encoding: 'linear16', sample_rate: 16000 },
      output: { encoding: 'linear16', sample_rate: 16000, container: 'none' },
    },
    experimental: true,
    agent: {
      listen: { provider: { type: 'scripted', transcripts: TRANSCRIPTS } },
      think: {
        provider: { type: 'scripted' },
        prompt: 'Be brief.',
        functions: [
          { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { query: { type: 'string' } } } },
          {
            name: 'lookup_order',
            description: 'Order status',
            parameters: { type: 'object', properties: { query: { type: 'string' } } },
            endpoint: { url: functionUrl, method: 'post', headers: {} },
          },
        ],
      },
      speak: { provider: { type: 'scripted' } },
      greeting: 'Hello there.',
    },
  };
}

const silence = (ms: number): Uint8Array => new Uint8Array((16000 * ms * 2) / 1000);

async function stream(client: AgentClient, pcm: Uint8Array): Promise<void> {
  for (let offset = 0, n = 0; offset < pcm.byteLength; offset += 640, n++) {
    client.send(pcm.subarray(offset, offset + 640));
    if (n % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('AgentClient against the real Parley server', () => {
  let server: RunningServer;
  let functions: Server;
  let functionUrl: string;
  let speech: Uint8Array;

  before(async () => {
    server = await startTestServer({ apiKeys: [KEY], idleTimeoutMs: 60_000 }, scriptedProviders());
    functions = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"shipped"}'));
    });
    await new Promise<void>((resolve) => functions.listen(0, '127.0.0.1', resolve));
    functionUrl = `http://127.0.0.1:${(functions.address() as AddressInfo).port}/orders`;
    speech = new Uint8Array(await readFile(await fixturePath('goforward')));
  });
  after(async () => {
    await server.close();
    await new Promise((resolve) => functions.close(resolve));
  });

  async function open(): Promise<{ client: AgentClient; log: Recorder }> {
    const client = new AgentClient({ url: server.url, key: KEY });
    const log = new Recorder(client);
    client.on('Open', () => client.configure(settings(functionUrl)));
    await log.waitFor('SettingsApplied');
    await log.waitFor('AgentAudioDone');
    return { client, log };
  }

  async function close(client: AgentClient, log: Recorder): Promise<void> {
    client.disconnect();
    const closed = await log.waitFor('Close');
    assert.equal(closed.code, 1000);
    assert.deepEqual(log.since(0, 'Error'), []);
  }

  it('hears real speech, answers with audio, reports latency and history; the reply records as WAV', async () => {
    const client = new AgentClient({ url: server.url, key: KEY, auth: 'subprotocol' });
    const log = new Recorder(client);
    const utterances: Utterance[] = [];
    const recorder = new UtteranceRecorder(client, { sampleRate: 16000 }, (u) => utterances.push(u));
    client.on('Open', () => client.configure(settings(functionUrl)));
    const welcome = await log.waitFor('Welcome');
    assert.match(welcome.request_id, /^[0-9a-f-]{36}$/);
    assert.equal((await log.waitFor('ConversationText')).content, 'Hello there.');
    await log.waitFor('AgentAudioDone');
    const mark = log.mark();
    await stream(client, speech);
    await stream(client, silence(900));
    await log.waitFor('UserStartedSpeaking', mark);
    assert.equal((await log.waitFor('ConversationText', mark, (e) => e.role === 'user')).content, TRANSCRIPTS[0]);
    const history = await log.waitFor('History', mark, (e) => 'role' in e && e.role === 'user');
    assert.ok('content' in history && history.content === TRANSCRIPTS[0]);
    const reply = await log.waitFor('ConversationText', mark, (e) => e.role === 'assistant');
    assert.equal(reply.content, `You said: ${TRANSCRIPTS[0]}.`);
    const started = await log.waitFor('AgentStartedSpeaking', mark);
    assert.ok(started.total_latency >= 0 && started.tts_latency >= 0 && started.ttt_latency >= 0);
    await log.waitFor('AgentAudioDone', mark);
    const report = await log.waitFor('LatencyReport', mark);
    assert.equal(typeof report.total_latency, 'number');
    recorder.detach();
    assert.equal(utterances.length, 2, 'greeting and reply');
    assert.equal(utterances[1]?.pcm.byteLength, log.audioBytesSince(mark));
    assert.ok((utterances[1]?.durationMs ?? 0) > 500);
    await close(client, log);
  });

  it('answers a client-side function call and sees its History', async () => {
    const { client, log } = await open();
    const mark = log.mark();
    client.injectUserMessage('get weather in Paris please');
    const request = await log.waitFor('FunctionCallRequest', mark);
    const call = request.functions[0];
    assert.ok(call);
    assert.equal(call.name, 'get_weather');
    assert.equal(call.client_side, true);
    assert.deepEqual(JSON.parse(call.arguments), { query: 'get weather in Paris please' });
    client.functionCallResponse({ id: call.id, name: call.name, content: 'sunny' });
    const history = await log.waitFor('History', mark, (e) => 'function_calls' in e);
    assert.ok('function_calls' in history);
    assert.deepEqual(history.function_calls.map((f) => [f.id, f.name, f.client_side, f.response]), [[call.id, 'get_weather', true, 'sunny']]);
    assert.equal((await log.waitFor('ConversationText', mark, (e) => e.role === 'assistant')).content, 'The result is sunny.');
    await log.waitFor('AgentAudioDone', mark);
    await close(client, log);
  });

  it('reports a server-side function call and the server FunctionCallResponse', async () => {
    const { client, log } = await open();
    const mark = log.mark();
    client.injectUserMessage('please lookup order 42');
    const request = await log.waitFor('FunctionCallRequest', mark);
    assert.equal(request.functions[0]?.client_side, false);
    const response = await log.waitFor('FunctionCallResponse', mark);
    assert.equal(response.name, 'lookup_order');
    assert.match(response.content, /shipped/);
    const said = await log.waitFor('ConversationText', mark, (e) => e.role === 'assistant');
    assert.match(said.content, /^The result is .*shipped/);
    await log.waitFor('AgentAudioDone', mark);
    await close(client, log);
  });

  it('gets an ack for every update and no reply to KeepAlive', async () => {
    const { client, log } = await open();
    const mark = log.mark();
    client.keepAlive();
    client.updatePrompt('Be even briefer.');
    await log.waitFor('PromptUpdated', mark);
    client.updateThink({ provider: { type: 'scripted', model: 'other' }, prompt: 'New prompt.' });
    await log.waitFor('ThinkUpdated', mark);
    client.updateSpeak({ provider: { type: 'scripted', model: 'voice-2' } });
    await log.waitFor('SpeakUpdated', mark);
    client.updateListen({ provider: { type: 'scripted', transcripts: TRANSCRIPTS } });
    await log.waitFor('ListenUpdated', mark);
    assert.deepEqual(
      log.events.slice(mark).map((e) => e.type),
      ['PromptUpdated', 'ThinkUpdated', 'SpeakUpdated', 'ListenUpdated'],
    );
    await close(client, log);
  });

  it('speaks an injected agent message, refuses one mid-speech, and flushes on barge-in', async () => {
    const { client, log } = await open();
    let mark = log.mark();
    client.injectAgentMessage('This is injected.');
    assert.equal((await log.waitFor('ConversationText', mark, (e) => e.role === 'assistant')).content, 'This is injected.');
    await log.waitFor('AgentAudioDone', mark);
    mark = log.mark();
    client.injectUserMessage('tell me a story');
    await log.waitFor('AgentStartedSpeaking', mark);
    client.injectAgentMessage('Not now.');
    const refused = await log.waitFor('InjectionRefused', mark);
    assert.equal(typeof refused.message, 'string');
    assert.match((await log.waitFor('Warning', mark)).code, /^INJECT_AGENT_MESSAGE_DURING_/);
    const bargeMark = log.mark();
    await stream(client, speech);
    await log.waitFor('UserStartedSpeaking', bargeMark);
    await stream(client, silence(900));
    assert.equal((await log.waitFor('ConversationText', bargeMark, (e) => e.role === 'user')).content, TRANSCRIPTS[0]);
    await log.waitFor('AgentAudioDone', bargeMark);
    await close(client, log);
  });

  it('gets FunctionCallCancelled when the user speaks over a pending client-side call', async () => {
    const { client, log } = await open();
    const mark = log.mark();
    client.injectUserMessage('get weather in Rome');
    const request = await log.waitFor('FunctionCallRequest', mark);
    await stream(client, speech);
    await log.waitFor('UserStartedSpeaking', mark);
    const cancelled = await log.waitFor('FunctionCallCancelled', mark);
    assert.deepEqual(cancelled.functions.map((f) => f.id), request.functions.map((f) => f.id));
    await close(client, log);
  });

  it('surfaces a server Error on the Error event and ends iteration on the close that follows', async () => {
    const { client, log } = await open();
    client.configure(settings(functionUrl));
    const error = await log.waitFor('Error');
    assert.equal(error.code, 'SETTINGS_ALREADY_APPLIED');
    const closed = await log.waitFor('Close');
    assert.equal(closed.willReconnect, false);
    assert.equal(log.ended || (await log.waitFor('Close')).type === 'Close', true);
  });

  it('is refused with a wrong key: Error then Close', async () => {
    const client = new AgentClient({ url: server.url, key: 'wrong' });
    const log = new Recorder(client);
    assert.equal((await log.waitFor('Error')).code, 'SOCKET_ERROR');
    await log.waitFor('Close');
    assert.equal(log.since(0, 'Open').length, 0);
  });
});
