import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentClient, AgentEvents, createClient, resolveAgentUrl, UtteranceRecorder } from '../../src/client/index.js';
import type { AgentEvent, Utterance } from '../../src/client/index.js';
import { FAKE_KEY, startFakeServer } from './support/fake-server.js';
import type { FakeServer, FakeSession } from './support/fake-server.js';

const SETTINGS = {
  audio: {
    input: { encoding: 'linear16', sample_rate: 16000 },
    output: { encoding: 'linear16', sample_rate: 16000, container: 'none' },
  },
  agent: {
    listen: { provider: { type: 'deepgram', model: 'nova-3' } },
    think: {
      provider: { type: 'open_ai', model: 'gpt-4o-mini' },
      prompt: 'Be brief.',
      functions: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} } }],
    },
    speak: { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } },
  },
};

function jsonTypes(session: FakeSession): string[] {
  return session.received.flatMap((r) => (r.kind === 'json' ? [String(r.message['type'])] : []));
}

function lastJson(session: FakeSession, type: string): Record<string, unknown> | undefined {
  return session.received
    .flatMap((r) => (r.kind === 'json' && r.message['type'] === type ? [r.message] : []))
    .at(-1);
}

function pcm(ms: number, amplitude: number): Uint8Array {
  const samples = (16000 * ms) / 1000;
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(amplitude * Math.sin(i / 3)), i * 2);
  return out;
}

async function connected(server: FakeServer, extra: Partial<ConstructorParameters<typeof AgentClient>[0]> = {}) {
  const sessionPromise = server.nextSession();
  const client = new AgentClient({ url: server.url, key: FAKE_KEY, ...extra });
  client.on(AgentEvents.Open, () => client.configure(SETTINGS));
  await client.waitFor('SettingsApplied', 5000);
  return { client, session: await sessionPromise };
}

describe('AgentClient against a protocol-faithful fake server', () => {
  let server: FakeServer;
  before(async () => {
    server = await startFakeServer();
  });
  after(async () => {
    await server.close();
  });

  it('resolves the V1 path only when the URL has none', () => {
    assert.equal(resolveAgentUrl('ws://h:1'), 'ws://h:1/v1/agent/converse');
    assert.equal(resolveAgentUrl('http://h:1/'), 'ws://h:1/v1/agent/converse');
    assert.equal(resolveAgentUrl('wss://h/custom/path'), 'wss://h/custom/path');
  });

  it('queues sends made before open, so Settings sent at once is the first frame', async () => {
    const sessionPromise = server.nextSession();
    const client = new AgentClient({ url: server.url, key: FAKE_KEY });
    client.configure(SETTINGS);
    client.keepAlive();
    const welcome = await client.waitFor('Welcome', 5000);
    await client.waitFor('SettingsApplied', 5000);
    const session = await sessionPromise;
    assert.match(welcome.request_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(jsonTypes(session).slice(0, 2), ['Settings', 'KeepAlive']);
    assert.deepEqual(lastJson(session, 'Settings'), { ...SETTINGS, type: 'Settings' });
    assert.equal(session.request.headers.authorization, `Token ${FAKE_KEY}`);
    client.disconnect();
    const close = await client.waitFor('Close', 5000);
    assert.equal(close.code, 1000);
    assert.equal(close.willReconnect, false);
  });

  it('authenticates with the token subprotocol and with ?token=', async () => {
    for (const auth of ['subprotocol', 'query'] as const) {
      const { client, session } = await connected(server, { auth });
      if (auth === 'subprotocol') assert.equal(session.protocol, 'token');
      else assert.equal(new URL(session.request.url ?? '', 'http://x').searchParams.get('token'), FAKE_KEY);
      assert.equal(session.request.headers.authorization, undefined);
      client.disconnect();
      await client.waitFor('Close', 5000);
    }
  });

  it('sends Bearer for an access token', async () => {
    const sessionPromise = server.nextSession();
    const client = new AgentClient({ url: server.url, accessToken: FAKE_KEY });
    await client.waitFor('Welcome', 5000);
    assert.equal((await sessionPromise).request.headers.authorization, `Bearer ${FAKE_KEY}`);
    client.disconnect();
    await client.waitFor('Close', 5000);
  });

  it('reports a refused handshake as Error then Close, and does not reconnect by default', async () => {
    const client = new AgentClient({ url: server.url, key: 'wrong' });
    const events: AgentEvent[] = [];
    for await (const event of client) events.push(event);
    assert.deepEqual(
      events.map((e) => e.type),
      ['Error', 'Close'],
    );
    const close = events[1];
    assert.ok(close?.type === 'Close' && !close.willReconnect);
  });

  it('sends every update with its wire shape and receives each ack', async () => {
    const { client, session } = await connected(server);
    client.updatePrompt('Also be kind.');
    await client.waitFor('PromptUpdated', 5000);
    client.updateThink({ provider: { type: 'anthropic', model: 'claude-haiku-4-5' }, prompt: 'p' });
    await client.waitFor('ThinkUpdated', 5000);
    client.updateSpeak({ provider: { type: 'deepgram', model: 'aura-2-luna-en' } });
    await client.waitFor('SpeakUpdated', 5000);
    client.updateListen({ provider: { type: 'deepgram', model: 'nova-3', language: 'en' } });
    await client.waitFor('ListenUpdated', 5000);
    assert.deepEqual(lastJson(session, 'UpdatePrompt'), { type: 'UpdatePrompt', prompt: 'Also be kind.' });
    assert.deepEqual(lastJson(session, 'UpdateThink'), {
      type: 'UpdateThink',
      think: { provider: { type: 'anthropic', model: 'claude-haiku-4-5' }, prompt: 'p' },
    });
    assert.deepEqual(lastJson(session, 'UpdateSpeak'), {
      type: 'UpdateSpeak',
      speak: { provider: { type: 'deepgram', model: 'aura-2-luna-en' } },
    });
    assert.deepEqual(lastJson(session, 'UpdateListen'), {
      type: 'UpdateListen',
      listen: { provider: { type: 'deepgram', model: 'nova-3', language: 'en' } },
    });
    client.disconnect();
    await client.waitFor('Close', 5000);
  });

  it('injects agent and user messages and gets the spoken reply with audio', async () => {
    const { client, session } = await connected(server);
    const texts: string[] = [];
    let audioBytes = 0;
    client.on('ConversationText', (m) => texts.push(`${m.role}: ${m.content}`));
    client.on('Audio', (data) => (audioBytes += data.byteLength));
    client.injectAgentMessage('Hello there.');
    await client.waitFor('AgentAudioDone', 5000);
    assert.deepEqual(lastJson(session, 'InjectAgentMessage'), { type: 'InjectAgentMessage', message: 'Hello there.' });
    client.injectAgentMessage('Now.', 'interrupt');
    await client.waitFor('AgentAudioDone', 5000);
    assert.equal(lastJson(session, 'InjectAgentMessage')?.['behavior'], 'interrupt');
    client.injectUserMessage('hi');
    const started = await client.waitFor('AgentStartedSpeaking', 5000);
    await client.waitFor('AgentAudioDone', 5000);
    assert.equal(typeof started.total_latency, 'number');
    assert.deepEqual(lastJson(session, 'InjectUserMessage'), { type: 'InjectUserMessage', content: 'hi' });
    assert.deepEqual(texts, ['assistant: Hello there.', 'assistant: Now.', 'user: hi', 'assistant: Reply number 1.']);
    assert.ok(audioBytes > 0);
    client.disconnect();
    await client.waitFor('Close', 5000);
  });

  it('answers a client-side function call and sees the History of it', async () => {
    const { client, session } = await connected(server);
    client.on('FunctionCallRequest', (request) => {
      for (const fn of request.functions) {
        assert.deepEqual(JSON.parse(fn.arguments), { city: 'Paris' });
        client.functionCallResponse({ id: fn.id, name: fn.name, content: 'sunny' });
      }
    });
    const history = new Promise<unknown>((resolve) =>
      client.on('History', (h) => {
        if ('function_calls' in h) resolve(h.function_calls[0]?.response);
      }),
    );
    const assistant = new Promise<string>((resolve) =>
      client.on('ConversationText', (m) => {
        if (m.role === 'assistant') resolve(m.content);
      }),
    );
    const thinking = client.waitFor('AgentThinking', 5000);
    client.injectUserMessage('what is the weather');
    assert.equal((await thinking).content, 'I should call a function.');
    assert.equal(await history, 'sunny');
    assert.equal(await assistant, 'The function said sunny.');
    assert.deepEqual(lastJson(session, 'FunctionCallResponse'), {
      type: 'FunctionCallResponse',
      id: 'call_1',
      name: 'get_weather',
      content: 'sunny',
    });
    client.disconnect();
    await client.waitFor('Close', 5000);
  });

  it('streams audio: the user turn is heard and the reply recorded as a WAV utterance', async () => {
    const { client, session } = await connected(server);
    const utterances: Utterance[] = [];
    const recorder = new UtteranceRecorder(client, { sampleRate: 16000 }, (u) => utterances.push(u));
    const bargeIn = client.waitFor('UserStartedSpeaking', 5000);
    const heardPromise = client.waitFor('ConversationText', 5000);
    const done = client.waitFor('AgentAudioDone', 5000);
    client.send(new Uint8Array(0));
    for (let i = 0; i < 40; i++) client.send(pcm(20, 6000));
    for (let i = 0; i < 40; i++) client.send(pcm(20, 0));
    await bargeIn;
    const heard = await heardPromise;
    assert.match(heard.content, /^I heard 0\.8 seconds$/);
    await done;
    recorder.detach();
    assert.equal(session.received.filter((r) => r.kind === 'binary').length, 80);
    assert.equal(utterances.length, 1);
    const wav = Buffer.from(utterances[0]?.wav ?? []);
    assert.equal(wav.toString('ascii', 0, 4), 'RIFF');
    assert.equal(wav.readUInt32LE(24), 16000);
    assert.equal(wav.readUInt32LE(40), wav.length - 44);
    assert.equal(utterances[0]?.durationMs, 300);
    client.disconnect();
    await client.waitFor('Close', 5000);
  });

  it('emits typed events for pushed server messages, Unhandled for unknown ones, and iterates them', async () => {
    const { client, session } = await connected(server);
    const events = client.events();
    session.send({ type: 'FunctionCallCancelled', functions: [{ id: 'c1', name: 'f' }] });
    session.send({ type: 'FunctionCallResponse', id: 'c2', name: 'f', content: 'done' });
    session.send({ type: 'InjectionRefused', message: 'busy' });
    session.send({ type: 'Warning', code: 'SLOW_THINK_REQUEST', description: 'slow' });
    session.send({ type: 'SomethingNew', x: 1 });
    session.send({ type: 'Error', code: 'INTERNAL_SERVER_ERROR', description: 'boom' });
    session.socket.close(1000);
    const seen: string[] = [];
    for await (const event of events) {
      if (event.type === 'Unhandled') seen.push(`Unhandled:${String(event.message['type'])}`);
      else if (event.type === 'Error') seen.push(`Error:${event.code}`);
      else seen.push(event.type);
    }
    assert.deepEqual(seen, [
      'FunctionCallCancelled',
      'FunctionCallResponse',
      'InjectionRefused',
      'Warning',
      'Unhandled:SomethingNew',
      'Error:INTERNAL_SERVER_ERROR',
      'Close',
    ]);
  });

  it('sends KeepAlive by itself only when the option is set and nothing else was sent', async () => {
    const { client, session } = await connected(server, { keepAliveIntervalMs: 100 });
    await new Promise((resolve) => setTimeout(resolve, 450));
    const keepAlives = jsonTypes(session).filter((t) => t === 'KeepAlive').length;
    assert.ok(keepAlives >= 2, `expected KeepAlives, got ${keepAlives}`);
    client.disconnect();
    await client.waitFor('Close', 5000);
  });

  it('reconnects after an abnormal close only when a policy is given', async () => {
    const first = server.nextSession();
    const client = new AgentClient({ url: server.url, key: FAKE_KEY, reconnect: { maxAttempts: 2, delayMs: 20 } });
    let opens = 0;
    client.on('Open', () => {
      opens += 1;
      client.configure(SETTINGS);
    });
    await client.waitFor('SettingsApplied', 5000);
    const second = server.nextSession();
    (await first).socket.close(1011, 'going');
    const close = await client.waitFor('Close', 5000);
    assert.equal(close.code, 1011);
    assert.equal(close.willReconnect, true);
    await client.waitFor('SettingsApplied', 5000);
    assert.equal(opens, 2);
    assert.deepEqual(jsonTypes(await second), ['Settings']);
    client.disconnect();
    assert.equal((await client.waitFor('Close', 5000)).willReconnect, false);
  });

  it('ports from the Deepgram SDK: createClient(key, { agent: { websocket: { options: { url } } } }).agent()', async () => {
    const sessionPromise = server.nextSession();
    const connection = createClient(FAKE_KEY, { agent: { websocket: { options: { url: server.url } } } }).agent();
    connection.on(AgentEvents.Open, () => connection.configure(SETTINGS));
    await connection.waitFor(AgentEvents.SettingsApplied, 5000);
    assert.equal(new URL((await sessionPromise).request.url ?? '', 'http://x').pathname, '/v1/agent/converse');
    connection.disconnect();
    await connection.waitFor(AgentEvents.Close, 5000);
  });
});
