import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createOpenAiThink } from '../../../src/think/cloud/openai.js';
import type { ThinkEvent, ThinkRequest } from '../../../src/think/types.js';
import { HttpFake, json, sseEvent, startSse } from '../../providers/fakes/http.js';
import { failureSuite } from '../../providers/failure-suite.js';
import { collect, TEST_TIMEOUT_MS, testContext } from '../../providers/helpers.js';

const KEY = 'sk-test-secret-123456';

function chunk(delta: Record<string, unknown>, finish: string | null = null): unknown {
  return { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] };
}

function openAiError(res: ServerResponse, status: number): void {
  const messages: Record<number, string> = {
    401: `Incorrect API key provided: ${KEY}`,
    429: 'Rate limit reached for requests',
    500: 'The server had an error while processing your request',
  };
  json(res, status, { error: { message: messages[status] ?? 'error', type: 'invalid_request_error', code: null } });
}

const history: ThinkRequest['messages'] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Weather in Paris?' },
  { role: 'assistant', content: '', toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
  { role: 'tool', toolCallId: 'call_a', name: 'get_weather', content: '{"temp":21}' },
  { role: 'user', content: 'And Rome?' },
];

describe('think open_ai (OpenAI-compatible chat completions)', () => {
  let fake: HttpFake;
  before(async () => {
    fake = await HttpFake.start();
  });
  after(() => fake.close());

  const provider = (extra: Record<string, unknown> = {}) =>
    createOpenAiThink('open_ai')(
      {
        provider: { type: 'open_ai', model: 'gpt-4o-mini', temperature: 0.3, timeout_ms: TEST_TIMEOUT_MS, ...extra },
        endpoint: { url: `${fake.url}/v1/chat/completions`, headers: { authorization: `Bearer ${KEY}`, 'x-extra': 'yes' } },
        prompt: '',
        functions: [],
      },
      testContext(),
    );

  const request = (signal: AbortSignal): ThinkRequest => ({
    messages: history,
    tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    signal,
  });

  test('streams text, accumulates tool-call deltas into complete calls, sends history and settings', async () => {
    fake.handler = (_req, res) => {
      startSse(res);
      sseEvent(res, chunk({ role: 'assistant', content: 'Let me ' }));
      sseEvent(res, chunk({ content: 'check.' }));
      sseEvent(res, chunk({ tool_calls: [{ index: 0, id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } }] }));
      sseEvent(res, chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Rome"}' } }] }));
      sseEvent(res, chunk({ tool_calls: [{ index: 1, id: 'call_c', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }));
      sseEvent(res, chunk({}, 'tool_calls'));
      sseEvent(res, '[DONE]');
      res.end();
    };
    const events = await collect(provider().stream(request(new AbortController().signal)));
    assert.deepEqual(events, [
      { type: 'text', text: 'Let me ' },
      { type: 'text', text: 'check.' },
      { type: 'tool_call', call: { id: 'call_b', name: 'get_weather', arguments: '{"city":"Rome"}' } },
      { type: 'tool_call', call: { id: 'call_c', name: 'get_time', arguments: '{}' } },
    ] satisfies ThinkEvent[]);

    const sent = fake.lastRequest;
    assert.equal(sent.url, '/v1/chat/completions');
    assert.equal(sent.headers['authorization'], `Bearer ${KEY}`);
    assert.equal(sent.headers['x-extra'], 'yes');
    const body = JSON.parse(sent.body) as Record<string, unknown>;
    assert.equal(body['model'], 'gpt-4o-mini');
    assert.equal(body['temperature'], 0.3);
    assert.equal(body['stream'], true);
    assert.deepEqual(body['messages'], [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21}' },
      { role: 'user', content: 'And Rome?' },
    ]);
    assert.equal((body['tools'] as unknown[]).length, 1);
  });

  test('reasoning deltas of self-hosted servers come out as thinking', async () => {
    fake.handler = (_req, res) => {
      startSse(res);
      sseEvent(res, chunk({ reasoning_content: 'hmm' }));
      sseEvent(res, chunk({ content: 'Hi' }, 'stop'));
      sseEvent(res, '[DONE]');
      res.end();
    };
    const events = await collect(provider().stream(request(new AbortController().signal)));
    assert.deepEqual(events, [
      { type: 'thinking', text: 'hmm' },
      { type: 'text', text: 'Hi' },
    ]);
  });

  // The server's GROQ_API_KEY goes only to api.groq.com (test/providers/keys-stay-home.test.ts),
  // so at this local URL the client brings its own key.
  test('groq and x_ai use the key they are given and their own label', async () => {
    fake.handler = (_req, res) => {
      startSse(res);
      sseEvent(res, chunk({ content: 'ok' }, 'stop'));
      res.end();
    };
    const groq = createOpenAiThink('groq')(
      { provider: { type: 'groq', model: 'openai/gpt-oss-20b' }, endpoint: { url: `${fake.url}/openai/v1/chat/completions`, headers: { authorization: 'Bearer gsk-client' } }, prompt: '', functions: [] },
      testContext({ GROQ_API_KEY: 'gsk-env' }),
    );
    assert.equal(groq.label, 'groq/openai/gpt-oss-20b');
    assert.deepEqual(await collect(groq.stream(request(new AbortController().signal))), [{ type: 'text', text: 'ok' }]);
    assert.equal(fake.lastRequest.url, '/openai/v1/chat/completions');
    assert.equal(fake.lastRequest.headers['authorization'], 'Bearer gsk-client');
  });

  failureSuite({
    fake: () => fake,
    error: openAiError,
    head: (res) => {
      startSse(res);
      sseEvent(res, chunk({ content: 'Hello' }));
      sseEvent(res, chunk({ tool_calls: [{ index: 0, id: 'x', type: 'function', function: { name: 'f', arguments: '{"a' } }] }));
    },
    malformed: (res) => res.write('data: {"choices":[{"delta":\n\n'),
    run: (signal, onItem) => collect(provider().stream(request(signal)), onItem),
    unauthorizedText: /Incorrect API key/,
    secret: KEY,
  });
});
