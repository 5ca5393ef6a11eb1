import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { thinkClosed, thinkRequests } from '../support/scripted-providers.js';
import { heldEndpoint, heldRequests } from '../support/held-endpoint.js';
import { startTestServer } from '../support/test-server.js';

describe('swapping a stage mid-reply', () => {
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

  it('race: UpdateThink during a tool round: the reply finishes with the LLM it started with, which is closed only after it', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    const think = (model: string): Json =>
      ({ provider: { type: 'scripted', model }, functions: [{ name: 'lookup', description: 'd', endpoint: { url: `${functions.url}/lookup` } }] }) as unknown as Json;
    socket.send({
      type: 'Settings',
      audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
      agent: { listen: { provider: { type: 'scripted' } }, think: think('swap-old'), speak: { provider: { type: 'scripted' } } },
    });
    await socket.waitFor('SettingsApplied');
    socket.send({ type: 'InjectUserMessage', content: 'please lookup my order' });
    await socket.waitFor('FunctionCallRequest');
    socket.send({ type: 'UpdateThink', think: think('swap-new') });
    await socket.waitFor('ThinkUpdated');
    assert.deepEqual(thinkClosed, [], 'the LLM of the reply in flight is still open');
    await heldRequests(functions.requests, 1);
    functions.requests[0]?.release(JSON.stringify({ order: 'shipped' }));
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant');
    assert.match(String(reply.content), /The result is/);
    assert.equal(thinkRequests.filter((r) => r.label === 'scripted/swap-old').length, 2, 'both rounds of the reply went to the old LLM');
    await socket.waitFor('AgentAudioDone');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(thinkClosed, ['scripted/swap-old'], 'closed once its reply was done');

    socket.send({ type: 'InjectUserMessage', content: 'hello again' });
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && /hello again/.test(String(e.content)));
    assert.equal(thinkRequests.at(-1)?.label, 'scripted/swap-new');
    assert.deepEqual(socket.events('Warning'), []);
    assert.deepEqual(socket.events('Error'), []);
    socket.close();
  });
});
