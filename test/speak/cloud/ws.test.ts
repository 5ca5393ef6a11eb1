import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../../src/core/errors.js';
import { createCartesiaSpeak } from '../../../src/speak/cloud/cartesia.js';
import { createElevenLabsSpeak } from '../../../src/speak/cloud/eleven-labs.js';
import { wsText } from '../../../src/providers/ws-stream.js';
import { WsFake } from '../../providers/fakes/ws.js';
import { collect, TEST_TIMEOUT_MS, testContext } from '../../providers/helpers.js';

const PCM = Buffer.from(new Int16Array([5, -6, 7, -8, 9]).buffer);

describe('speak cartesia (TTS WebSocket)', () => {
  let fake: WsFake;
  before(async () => {
    fake = await WsFake.start();
  });
  after(() => fake.close());
  const make = () =>
    createCartesiaSpeak(
      {
        provider: { type: 'cartesia', model_id: 'sonic-2', voice: { mode: 'id', id: 'v1' }, language: 'en', timeout_ms: TEST_TIMEOUT_MS },
        endpoint: { url: `${fake.url}/tts/websocket`, headers: { 'x-api-key': 'cart-key-777' } },
      },
      testContext(),
    );

  test('sends the request, streams base64 chunks (odd splits joined) until done', async () => {
    fake.reset();
    fake.onConnection = (ws) =>
      ws.once('message', (data) => {
        const req = JSON.parse(wsText(data)) as { context_id: string };
        ws.send(JSON.stringify({ type: 'chunk', data: PCM.subarray(0, 3).toString('base64'), done: false, context_id: req.context_id }));
        ws.send(JSON.stringify({ type: 'chunk', data: PCM.subarray(3).toString('base64'), done: false, context_id: req.context_id }));
        ws.send(JSON.stringify({ type: 'done', done: true, context_id: req.context_id }));
      });
    const chunks = await collect(make().synthesize('Hi.', new AbortController().signal));
    assert.deepEqual(chunks.flatMap((c) => [...c.samples]), [5, -6, 7, -8, 9]);
    assert.ok(chunks.every((c) => c.sampleRate === 24000));
    const sent = JSON.parse(String(fake.received[0])) as Record<string, unknown>;
    assert.equal(sent['transcript'], 'Hi.');
    assert.deepEqual(sent['output_format'], { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 });
    assert.deepEqual(sent['voice'], { mode: 'id', id: 'v1' });
    assert.equal(fake.lastUpgrade.headers['x-api-key'], 'cart-key-777');
  });

  for (const status of [401, 429, 500]) {
    test(`a refused upgrade (${status}) is a ProviderError with that status`, async () => {
      fake.reset();
      fake.refuse = { status, body: '{"error":"Invalid API key"}' };
      await assert.rejects(collect(make().synthesize('Hi.', new AbortController().signal)), (err) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.status, status);
        assert.ok(!err.message.includes('cart-key-777'));
        return true;
      });
    });
  }

  test('an error message, a mid-way close, a malformed message and a silent server all fail', async () => {
    const cases: [(ws: import('ws').WebSocket) => void, RegExp][] = [
      [(ws) => ws.send(JSON.stringify({ type: 'error', error: 'voice not found', status_code: 400, done: true })), /voice not found/],
      [(ws) => ws.terminate(), /closed|failed/],
      [(ws) => ws.send('{"type":"chunk",'), /malformed/],
      [() => undefined, /no response within/],
    ];
    for (const [play, expected] of cases) {
      fake.reset();
      fake.onConnection = (ws) => ws.once('message', () => play(ws));
      await assert.rejects(collect(make().synthesize('Hi.', new AbortController().signal)), (err) => {
        assert.ok(err instanceof ProviderError);
        assert.match(err.message, expected);
        return true;
      });
    }
  });

  test('aborting closes the socket', async () => {
    fake.reset();
    fake.onConnection = (ws) =>
      ws.once('message', () => ws.send(JSON.stringify({ type: 'chunk', data: PCM.toString('base64'), done: false })));
    const controller = new AbortController();
    const chunks = await collect(make().synthesize('Hi.', controller.signal), () => controller.abort());
    assert.equal(chunks.length, 1);
    await fake.waitForClose();
  });
});

describe('speak eleven_labs (stream-input WebSocket)', () => {
  let fake: WsFake;
  before(async () => {
    fake = await WsFake.start();
  });
  after(() => fake.close());

  test('opens, sends text and the end marker, streams audio until isFinal', async () => {
    fake.onConnection = (ws) => {
      let n = 0;
      ws.on('message', () => {
        n++;
        if (n === 3) {
          ws.send(JSON.stringify({ audio: PCM.subarray(0, 5).toString('base64'), isFinal: false }));
          ws.send(JSON.stringify({ audio: PCM.subarray(5).toString('base64'), isFinal: false }));
          ws.send(JSON.stringify({ audio: null, isFinal: true }));
        }
      });
    };
    const provider = createElevenLabsSpeak(
      {
        provider: { type: 'eleven_labs', model_id: 'eleven_turbo_v2_5', timeout_ms: TEST_TIMEOUT_MS },
        endpoint: { url: `${fake.url}/v1/text-to-speech/voice9/stream-input`, headers: { 'xi-api-key': 'xi-ws-key' } },
      },
      testContext(),
    );
    const chunks = await collect(provider.synthesize('Hello.', new AbortController().signal));
    assert.deepEqual(chunks.flatMap((c) => [...c.samples]), [5, -6, 7, -8, 9]);
    const url = new URL(fake.lastUpgrade.url ?? '', 'ws://x');
    assert.equal(url.pathname, '/v1/text-to-speech/voice9/stream-input');
    assert.equal(url.searchParams.get('output_format'), 'pcm_24000');
    assert.equal(url.searchParams.get('model_id'), 'eleven_turbo_v2_5');
    assert.equal(fake.lastUpgrade.headers['xi-api-key'], 'xi-ws-key');
    assert.deepEqual(fake.received.map((m) => JSON.parse(String(m)) as unknown), [{ text: ' ' }, { text: 'Hello. ', flush: true }, { text: '' }]);
  });
});
