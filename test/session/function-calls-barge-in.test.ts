import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { thinkRequests } from '../support/scripted-providers.js';
import { heldEndpoint, heldRequests } from '../support/held-endpoint.js';
import { startTestServer } from '../support/test-server.js';

describe('server-side function calls and barge-in', () => {
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

  it('race: the user barges in during a server-side call: the call runs to completion and its call and result enter history', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send({
      type: 'Settings',
      audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
      agent: {
        listen: { provider: { type: 'scripted' } },
        think: { provider: { type: 'scripted', model: 'refunds' }, functions: [{ name: 'refund', description: 'd', endpoint: { url: `${functions.url}/refund` } }] },
        speak: { provider: { type: 'scripted' } },
      },
    });
    await socket.waitFor('SettingsApplied');
    socket.send({ type: 'InjectUserMessage', content: 'please refund my order' });
    await socket.waitFor('FunctionCallRequest');
    await heldRequests(functions.requests, 1);

    socket.send({ type: 'InjectUserMessage', content: 'oh and hurry up' });
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && /hurry up/.test(String(e.content)));
    functions.requests[0]?.release(JSON.stringify({ refund: 'issued', id: 42 }));
    const response = await socket.waitFor('FunctionCallResponse');
    assert.match(String(response.content), /issued/);
    const history = await socket.waitFor('History', (e) => Array.isArray(e.function_calls));
    assert.deepEqual((history.function_calls as Json[]).map((c) => [c.name, c.response]), [['refund', response.content]]);
    assert.equal(functions.requests[0]?.abandoned, false, 'the endpoint was not cut off');

    socket.send({ type: 'InjectUserMessage', content: 'thanks' });
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && /thanks/.test(String(e.content)));
    const request = thinkRequests.filter((r) => r.label === 'scripted/refunds').at(-1);
    const tool = request?.messages.find((m) => m.role === 'tool');
    assert.ok(tool !== undefined && tool.content.includes('issued'), 'the LLM learns the result');
    const asked = request?.messages.find((m) => m.role === 'assistant' && (m.toolCalls?.length ?? 0) > 0);
    assert.equal(asked?.role === 'assistant' ? asked.toolCalls?.[0]?.name : undefined, 'refund');
    assert.equal(functions.requests.length, 1, 'called once');
    assert.deepEqual(socket.events('Error'), []);
    socket.close();
  });
});
