import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createGoogleThink } from '../../../src/think/cloud/google.js';
import type { ThinkRequest } from '../../../src/think/types.js';
import { HttpFake, json, startSse } from '../../providers/fakes/http.js';
import { failureSuite } from '../../providers/failure-suite.js';
import { collect, TEST_TIMEOUT_MS, testContext } from '../../providers/helpers.js';

const KEY = 'AIza-test-key-55555';

/** Gemini separates SSE events with CRLF pairs. */
function send(res: ServerResponse, parts: unknown[], finishReason?: string): void {
  const candidate = { content: { role: 'model', parts }, index: 0, ...(finishReason === undefined ? {} : { finishReason }) };
  res.write(`data: ${JSON.stringify({ candidates: [candidate], modelVersion: 'gemini-2.5-flash' })}\r\n\r\n`);
}

function googleError(res: ServerResponse, status: number): void {
  const statuses: Record<number, string> = { 401: 'UNAUTHENTICATED', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL' };
  const message = status === 401 ? 'API key not valid. Please pass a valid API key.' : 'Resource has been exhausted';
  json(res, status, { error: { code: status, message, status: statuses[status] } });
}

describe('think google (Gemini streamGenerateContent)', () => {
  let fake: HttpFake;
  before(async () => {
    fake = await HttpFake.start();
  });
  after(() => fake.close());

  const provider = () =>
    createGoogleThink(
      {
        provider: { type: 'google', temperature: 0.2, timeout_ms: TEST_TIMEOUT_MS },
        endpoint: { url: `${fake.url}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse`, headers: { 'x-goog-api-key': KEY } },
        prompt: '',
        functions: [],
      },
      testContext(),
    );

  const request = (signal: AbortSignal): ThinkRequest => ({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}', thoughtSignature: 'sig1' }] },
      { role: 'tool', toolCallId: 'c1', name: 'get_weather', content: 'sunny' },
    ],
    tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    signal,
  });

  test('streams text and function calls (with thought signatures); model comes from the URL', async () => {
    fake.handler = (_req, res) => {
      startSse(res);
      send(res, [{ text: 'It is ' }]);
      send(res, [{ text: 'sunny.' }, { functionCall: { name: 'log_city', args: { city: 'Paris' } }, thoughtSignature: 'sig2' }]);
      send(res, [{ text: '' }], 'STOP');
      res.end();
    };
    const events = await collect(provider().stream(request(new AbortController().signal)));
    assert.equal(events.length, 3);
    assert.deepEqual(events.slice(0, 2), [
      { type: 'text', text: 'It is ' },
      { type: 'text', text: 'sunny.' },
    ]);
    const call = events[2];
    assert.ok(call?.type === 'tool_call');
    assert.equal(call.call.name, 'log_city');
    assert.equal(call.call.arguments, '{"city":"Paris"}');
    assert.equal(call.call.thoughtSignature, 'sig2');
    assert.ok(call.call.id.length > 0);

    const sent = fake.lastRequest;
    assert.match(sent.url, /^\/v1beta\/models\/gemini-2\.0-flash:streamGenerateContent\?alt=sse/);
    assert.equal(sent.headers['x-goog-api-key'], KEY);
    const body = JSON.parse(sent.body) as Record<string, unknown>;
    assert.deepEqual(body['systemInstruction'], { parts: [{ text: 'Be brief.' }], role: 'user' });
    assert.equal((body['generationConfig'] as Record<string, unknown>)['temperature'], 0.2);
    assert.deepEqual(body['contents'], [
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { id: 'c1', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'sig1' }] },
      { role: 'user', parts: [{ functionResponse: { id: 'c1', name: 'get_weather', response: { result: 'sunny' } } }] },
    ]);
    assert.ok(JSON.stringify(body['tools']).includes('get_weather'));
  });

  failureSuite({
    fake: () => fake,
    error: googleError,
    head: (res) => {
      startSse(res);
      send(res, [{ text: 'Hello' }]);
    },
    malformed: (res) => res.write('data: {"candidates":[{"content":\r\n\r\n'),
    run: (signal, onItem) => collect(provider().stream(request(signal)), onItem),
    unauthorizedText: /API key not valid/,
    secret: KEY,
  });
});
