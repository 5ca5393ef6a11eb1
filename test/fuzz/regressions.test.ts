/** One test for each bound the fuzzer found missing (docs/protocol-decisions.md#message-limits). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import { silentLogger } from '../../src/core/logger.js';
import { DEFAULT_CLIENT_LIMITS } from '../../src/protocol/limits.js';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import { Connection } from '../../src/server/connection.js';
import type { RunningServer } from '../../src/server/index.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { AgentSocket } from '../support/agent-socket.js';
import { scriptedProviders } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';
import { MemorySocket, until, validSettings } from './support.js';

describe('bounds on client input', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 30_000, limits: { ...DEFAULT_CLIENT_LIMITS, maxInjectChars: 40, maxQueuedInjections: 1, maxFunctions: 2 } });
  });
  after(() => server.close());

  async function applied(): Promise<AgentSocket> {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(validSettings('v1') as { type: string });
    await socket.waitFor('SettingsApplied');
    return socket;
  }

  it('answers a text frame of invalid UTF-8 with a coded Error and close 1000, not a bare 1007', async () => {
    const socket = await applied();
    socket.ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false });
    const error = await socket.waitFor('Error');
    assert.equal(error.code, 'UNPARSABLE_CLIENT_MESSAGE');
    assert.match(String(error.description), /not valid UTF-8/);
    assert.equal(await socket.closed(), 1000);
  });

  it('answers settings 20,000 levels deep with UNPARSABLE_CLIENT_MESSAGE, not a stack overflow', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    socket.sendRaw(`{"type":"Settings","agent":{"think":{"provider":{"type":"scripted"},"functions":[{"name":"f","parameters":${deep}}]}}}`);
    const error = await socket.waitFor('Error');
    assert.equal(error.code, 'UNPARSABLE_CLIENT_MESSAGE');
    assert.match(String(error.description), /more than 64 levels deep/);
    assert.equal(await socket.closed(), 1000);
  });

  it('cuts an injected user message to the limit with PROMPT_TOO_LONG and answers the cut text', async () => {
    const socket = await applied();
    socket.send({ type: 'InjectUserMessage', content: `${'word '.repeat(8)}and more words past the limit` });
    const warning = await socket.waitFor('Warning');
    assert.equal(warning.code, 'PROMPT_TOO_LONG');
    assert.match(String(warning.description), /The injected user message has 69 characters; only the first 40 are used/);
    const said = await socket.waitFor('ConversationText', (e) => e.role === 'user');
    assert.equal(said.content, 'word word word word word word word word');
    socket.close();
  });

  it('refuses a queued agent message past the queue limit with InjectionRefused and a Warning', async () => {
    const socket = await applied();
    socket.send({ type: 'InjectAgentMessage', message: 'A long reply that keeps the agent busy.', behavior: 'interrupt' });
    socket.send({ type: 'InjectAgentMessage', message: 'Queued one.', behavior: 'queue' });
    socket.send({ type: 'InjectAgentMessage', message: 'Queued two.', behavior: 'queue' });
    const refused = await socket.waitFor('InjectionRefused');
    assert.match(String(refused.message), /1 agent messages are already queued/);
    assert.equal((await socket.waitFor('Warning')).code, 'INJECT_AGENT_MESSAGE_DURING_AGENT_SPEECH');
    await socket.waitFor('ConversationText', (e) => e.content === 'Queued one.');
    socket.close();
  });

  it('refuses more functions than the limit, in settings and in UpdateThink, with INVALID_SETTINGS', async () => {
    const fns = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
    const socket = await applied();
    socket.send({ type: 'UpdateThink', think: { provider: { type: 'scripted' }, functions: fns } });
    const error = await socket.waitFor('Error');
    assert.equal(error.code, 'INVALID_SETTINGS');
    assert.match(String(error.description), /think\.functions defines 3 functions; at most 2 are allowed/);
  });

  it('ends a session sent more than 256 messages before SettingsApplied, with a coded Error', async () => {
    const config = { ...loadServerConfig({}), idleTimeoutMs: 30_000 };
    const deps = { config, providers: scriptedProviders(), metrics: new ServerMetrics(), logger: silentLogger(), env: {}, createAudio: sessionAudioFactory(config.playoutLeadMs) };
    const socket = new MemorySocket();
    new Connection(socket as unknown as WebSocket, 'v1', deps, () => undefined);
    const text = (m: object) => ({ kind: 'text' as const, bytes: Buffer.from(JSON.stringify(m)) });
    // Applying settings waits for the audio and the listener, so these all arrive before SettingsApplied.
    socket.send(text(validSettings('v1')));
    for (let i = 0; i < 257; i++) socket.send(text({ type: 'KeepAlive' }));
    await until(() => socket.closeCode !== undefined, 'the close');
    const error = socket.events.find((e) => e['type'] === 'Error');
    assert.equal(error?.['code'], 'NON_SETTINGS_MESSAGE_BEFORE_SETTINGS');
    assert.match(String(error?.['description']), /More than 256 messages arrived before SettingsApplied/);
    assert.equal(socket.closeCode, 1000);
  });

  it('ends a session with more than 4 MiB of messages waiting to be handled, with TOO_MANY_MESSAGES; a burst of small ones is fine', async () => {
    const config = { ...loadServerConfig({}), idleTimeoutMs: 30_000 };
    const deps = { config, providers: scriptedProviders(), metrics: new ServerMetrics(), logger: silentLogger(), env: {}, createAudio: sessionAudioFactory(config.playoutLeadMs) };
    const text = (m: object) => ({ kind: 'text' as const, bytes: Buffer.from(JSON.stringify(m)) });
    const prompt = 'p'.repeat(250_000);
    const burst = async (messages: object[]): Promise<MemorySocket> => {
      const socket = new MemorySocket();
      new Connection(socket as unknown as WebSocket, 'v1', deps, () => undefined);
      socket.send(text(validSettings('v1')));
      await until(() => socket.events.some((e) => e['type'] === 'SettingsApplied'), 'SettingsApplied');
      // Delivered in one tick, as frames of one network read are: none is handled before the last arrives.
      socket.send(text({ type: 'UpdateListen', listen: { provider: { type: 'scripted' } } }));
      for (const message of messages) socket.send(text(message));
      await until(() => socket.closeCode !== undefined || socket.events.some((e) => e['type'] === 'ListenUpdated'), 'the burst handled');
      return socket;
    };
    const small = await burst(Array.from({ length: 2000 }, () => ({ type: 'KeepAlive' })));
    assert.equal(small.closeCode, undefined);
    const fine = await burst(Array.from({ length: 15 }, () => ({ type: 'UpdatePrompt', prompt })));
    assert.equal(fine.closeCode, undefined);
    assert.deepEqual([...small.events, ...fine.events].filter((e) => e['type'] === 'Error'), []);
    small.close(1000);
    fine.close(1000);
    const flooded = await burst(Array.from({ length: 17 }, () => ({ type: 'UpdatePrompt', prompt })));
    await until(() => flooded.closeCode !== undefined, 'the close');
    const error = flooded.events.find((e) => e['type'] === 'Error');
    assert.equal(error?.['code'], 'TOO_MANY_MESSAGES');
    assert.match(String(error?.['description']), /More than 4194304 bytes of messages wait/);
    assert.equal(flooded.closeCode, 1000);
  });
});
