import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createAnthropicThink } from '../../../src/think/cloud/anthropic.js';
import type { ThinkRequest } from '../../../src/think/types.js';
import { HttpFake, json, sseEvent, startSse } from '../../providers/fakes/http.js';
import { failureSuite } from '../../providers/failure-suite.js';
import { collect, TEST_TIMEOUT_MS, testContext } from '../../providers/helpers.js';

const KEY = 'sk-ant-test-987654';

function send(res: ServerResponse, data: Record<string, unknown>): void {
  sseEvent(res, data, String(data['type']));
}

function messageStart(res: ServerResponse): void {
  startSse(res);
  send(res, {
    type: 'message_start',
    message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [], stop_reason: null, usage: { input_tokens: 1, output_tokens: 0 } },
  });
}

function anthropicError(res: ServerResponse, status: number): void {
  const types: Record<number, string> = { 401: 'authentication_error', 429: 'rate_limit_error', 500: 'api_error' };
  json(res, status, { type: 'error', error: { type: types[status] ?? 'api_error', message: status === 401 ? 'invalid x-api-key' : 'try later' } });
}

describe('think anthropic (messages streaming)', () => {
  let fake: HttpFake;
  before(async () => {
    fake = await HttpFake.start();
  });
  after(() => fake.close());

  const provider = () =>
    createAnthropicThink(
      {
        provider: { type: 'anthropic', model: 'claude-haiku-4-5', temperature: 0.5, timeout_ms: TEST_TIMEOUT_MS },
        endpoint: { url: `${fake.url}/v1/messages`, headers: { 'x-api-key': KEY } },
        prompt: '',
        functions: [],
      },
      testContext(),
    );

  const request = (signal: AbortSignal): ThinkRequest => ({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'assistant', content: 'Hello! How can I help?' },
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking.',
        toolCalls: [
          { id: 'tu_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'tu_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
        ],
      },
      { role: 'tool', toolCallId: 'tu_1', name: 'get_weather', content: '21C' },
      { role: 'tool', toolCallId: 'tu_2', name: 'get_weather', content: '25C' },
    ],
    tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    signal,
  });

  test('streams text and a tool call assembled from input_json deltas; maps system, tool_use and tool_result', async () => {
    fake.handler = (_req, res) => {
      messageStart(res);
      send(res, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      sendPing(res);
      send(res, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Paris 21, ' } });
      send(res, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Rome 25.' } });
      send(res, { type: 'content_block_stop', index: 0 });
      send(res, { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'tu_3', name: 'remember', input: {} } });
      send(res, { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"fact":' } });
      send(res, { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"warm"}' } });
      send(res, { type: 'content_block_stop', index: 1 });
      send(res, { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } });
      send(res, { type: 'message_stop' });
      res.end();
    };
    const events = await collect(provider().stream(request(new AbortController().signal)));
    assert.deepEqual(events, [
      { type: 'text', text: 'Paris 21, ' },
      { type: 'text', text: 'Rome 25.' },
      { type: 'tool_call', call: { id: 'tu_3', name: 'remember', arguments: '{"fact":"warm"}' } },
    ]);
    const sent = fake.lastRequest;
    assert.equal(sent.url, '/v1/messages');
    // This client version sends the key as a bearer token; older ones used x-api-key.
    assert.ok(sent.headers['x-api-key'] === KEY || sent.headers['authorization'] === `Bearer ${KEY}`);
    const body = JSON.parse(sent.body) as Record<string, unknown>;
    assert.equal(body['system'], 'Be brief.');
    assert.equal(body['temperature'], 0.5);
    assert.equal(body['model'], 'claude-haiku-4-5');
    assert.deepEqual(body['messages'], [
      { role: 'assistant', content: [{ type: 'text', text: 'Hello! How can I help?' }] },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'tu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'tu_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'tu_1', content: '21C' },
          { type: 'tool_result', tool_use_id: 'tu_2', content: '25C' },
        ],
      },
    ]);
    assert.deepEqual((body['tools'] as { name: string }[]).map((t) => t.name), ['get_weather']);
  });

  test('an error event inside the stream (overloaded) fails with its message', async () => {
    fake.handler = (_req, res) => {
      messageStart(res);
      send(res, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
      res.end();
    };
    await assert.rejects(collect(provider().stream(request(new AbortController().signal))), (err: Error) => {
      assert.equal(err.name, 'ProviderError');
      assert.match(err.message, /Overloaded/);
      return true;
    });
  });

  failureSuite({
    fake: () => fake,
    error: anthropicError,
    head: (res) => {
      messageStart(res);
      send(res, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      send(res, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } });
    },
    malformed: (res) => res.write('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,\n\n'),
    run: (signal, onItem) => collect(provider().stream(request(signal)), onItem),
    unauthorizedText: /invalid x-api-key/,
    secret: KEY,
  });
});

function sendPing(res: ServerResponse): void {
  sseEvent(res, { type: 'ping' }, 'ping');
}
