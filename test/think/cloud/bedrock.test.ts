import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createBedrockThink } from '../../../src/think/cloud/bedrock.js';
import type { ThinkRequest } from '../../../src/think/types.js';
import { awsEvent, awsException } from '../../providers/fakes/aws-eventstream.js';
import { HttpFake } from '../../providers/fakes/http.js';
import { failureSuite } from '../../providers/failure-suite.js';
import { collect, TEST_TIMEOUT_MS, testContext } from '../../providers/helpers.js';

const SECRET = 'aws-secret-key-abcdef';

function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'r1' });
  res.write(awsEvent('messageStart', { role: 'assistant' }));
}

function awsError(res: ServerResponse, status: number): void {
  const types: Record<number, string> = { 401: 'UnrecognizedClientException', 429: 'ThrottlingException', 500: 'InternalServerException' };
  const message = status === 401 ? 'The security token included in the request is invalid.' : 'Too many requests, please wait';
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': `${types[status]}:http://internal.amazon.com/coral/` });
  res.end(JSON.stringify({ message }));
}

describe('think aws_bedrock (ConverseStream event stream over HTTP/2)', () => {
  let fake: HttpFake;
  before(async () => {
    fake = await HttpFake.start({ http2: true });
  });
  after(() => fake.close());

  const provider = () =>
    createBedrockThink(
      {
        provider: {
          type: 'aws_bedrock',
          model: 'anthropic.claude-3-5-haiku-20241022-v1:0',
          temperature: 0.4,
          timeout_ms: TEST_TIMEOUT_MS,
          credentials: { type: 'iam', region: 'eu-west-1', access_key_id: 'AKIATEST', secret_access_key: SECRET },
        },
        endpoint: { url: fake.url, headers: {} },
        prompt: '',
        functions: [],
      },
      testContext(),
    );

  const request = (signal: AbortSignal): ThinkRequest => ({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
      { role: 'tool', toolCallId: 't1', name: 'get_weather', content: 'snow' },
    ],
    tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    signal,
  });

  test('streams text and a tool call from toolUse deltas; signs with the given credentials', async () => {
    fake.handler = (_req, res) => {
      startStream(res);
      res.write(awsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Snow in ' } }));
      res.write(awsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Oslo.' } }));
      res.write(awsEvent('contentBlockStop', { contentBlockIndex: 0 }));
      res.write(awsEvent('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 't2', name: 'note' } } }));
      res.write(awsEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"text":' } } }));
      res.write(awsEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '"cold"}' } } }));
      res.write(awsEvent('contentBlockStop', { contentBlockIndex: 1 }));
      res.write(awsEvent('messageStop', { stopReason: 'tool_use' }));
      res.write(awsEvent('metadata', { usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { latencyMs: 5 } }));
      res.end();
    };
    const events = await collect(provider().stream(request(new AbortController().signal)));
    assert.deepEqual(events, [
      { type: 'text', text: 'Snow in ' },
      { type: 'text', text: 'Oslo.' },
      { type: 'tool_call', call: { id: 't2', name: 'note', arguments: '{"text":"cold"}' } },
    ]);
    const sent = fake.lastRequest;
    assert.equal(sent.url, `/model/${encodeURIComponent('anthropic.claude-3-5-haiku-20241022-v1:0')}/converse-stream`);
    assert.match(String(sent.headers['authorization']), /Credential=AKIATEST\/\d+\/eu-west-1\/bedrock\/aws4_request/);
    const body = JSON.parse(sent.body) as Record<string, unknown>;
    assert.deepEqual(body['system'], [{ text: 'Be brief.' }]);
    assert.deepEqual(body['inferenceConfig'], { maxTokens: 1024, temperature: 0.4 });
    assert.deepEqual(body['messages'], [
      { role: 'user', content: [{ text: 'Weather?' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'get_weather', input: { city: 'Oslo' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'snow' }] } }] },
    ]);
  });

  test('an exception inside the event stream (throttling) fails with its message', async () => {
    fake.handler = (_req, res) => {
      startStream(res);
      res.write(awsException('throttlingException', 'Too many tokens, slow down'));
      res.end();
    };
    await assert.rejects(collect(provider().stream(request(new AbortController().signal))), (err: Error) => {
      assert.equal(err.name, 'ProviderError');
      assert.match(err.message, /Too many tokens/);
      return true;
    });
  });

  failureSuite({
    fake: () => fake,
    error: awsError,
    head: (res) => {
      startStream(res);
      res.write(awsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }));
    },
    malformed: (res) => {
      const corrupt = awsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'x' } });
      corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1);
      res.write(corrupt);
    },
    run: (signal, onItem) => collect(provider().stream(request(signal)), onItem),
    unauthorizedText: /security token/,
    secret: SECRET,
  });
});
