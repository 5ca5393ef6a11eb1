import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../../src/core/errors.js';
import { createDeepgramListen } from '../../../src/listen/cloud/deepgram.js';
import { EnergyTurnDetector } from '../../../src/listen/cloud/energy-turn-detector.js';
import { createOpenAiListen } from '../../../src/listen/cloud/openai.js';
import type { ListenEvents } from '../../../src/listen/types.js';
import { HttpFake, json } from '../../providers/fakes/http.js';
import { WsFake } from '../../providers/fakes/ws.js';
import { TEST_TIMEOUT_MS, testContext } from '../../providers/helpers.js';

function recorder(): ListenEvents & { log: string[]; next(match: RegExp): Promise<string> } {
  const log: string[] = [];
  let waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  const add = (line: string): void => {
    log.push(line);
    waiters = waiters.filter((w) => (w.match.test(line) ? (w.resolve(line), false) : true));
  };
  return {
    log,
    speechStarted: () => add('start'),
    interim: (text) => add(`interim:${text}`),
    endOfTurn: (text) => add(`end:${text}`),
    failed: (error) => add(`failed:${error.message}`),
    next: (match) => {
      const found = log.find((line) => match.test(line));
      return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

function tone(ms: number, amplitude: number): Int16Array {
  const out = new Int16Array((16000 * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 220 * i) / 16000));
  return out;
}

const results = (transcript: string, isFinal: boolean, speechFinal: boolean) =>
  JSON.stringify({ type: 'Results', is_final: isFinal, speech_final: speechFinal, channel: { alternatives: [{ transcript }] } });

describe('listen deepgram (live WebSocket)', () => {
  let fake: WsFake;
  before(async () => {
    fake = await WsFake.start();
  });
  after(() => fake.close());
  const env = () => ({ DEEPGRAM_API_KEY: 'dg-listen-key', DEEPGRAM_BASE_URL: fake.url.replace('ws', 'http') });

  test('Nova: forwards PCM, maps SpeechStarted, interim and accumulated finals to one end of turn', async () => {
    fake.reset();
    fake.onConnection = (ws) => {
      ws.once('message', () => {
        ws.send(JSON.stringify({ type: 'SpeechStarted', channel: [0], timestamp: 0.1 }));
        ws.send(results('what is', false, false));
        ws.send(results('what is the', true, false));
        ws.send(results('weather', false, false));
        ws.send(results('weather today', true, true));
      });
    };
    const events = recorder();
    const stream = await createDeepgramListen(
      { provider: { type: 'deepgram', model: 'nova-3', keyterms: ['Parley'] } },
      testContext(env()),
    ).open(events);
    stream.write(new Int16Array([1, 2, 3, 4]));
    await events.next(/^end:/);
    assert.deepEqual(events.log, ['start', 'interim:what is', 'interim:what is the weather', 'end:what is the weather today']);
    assert.equal(stream.forceEndTurn(), false);
    const url = new URL(fake.lastUpgrade.url ?? '', 'ws://x');
    assert.equal(url.pathname, '/v1/listen');
    assert.equal(url.searchParams.get('model'), 'nova-3');
    assert.equal(url.searchParams.get('sample_rate'), '16000');
    assert.equal(url.searchParams.get('encoding'), 'linear16');
    assert.equal(url.searchParams.get('keyterm'), 'Parley');
    assert.equal(fake.lastUpgrade.headers['authorization'], 'Token dg-listen-key');
    assert.deepEqual([...new Int16Array(new Uint8Array(fake.received[0] as Buffer).buffer)], [1, 2, 3, 4]);
    stream.close();
    await fake.waitForClose();
    assert.ok(fake.received.includes(JSON.stringify({ type: 'CloseStream' })));
  });

  test('Nova: a SpeechStarted that no word follows ends with an empty turn at UtteranceEnd', async () => {
    fake.reset();
    fake.onConnection = (ws) => {
      ws.once('message', () => {
        ws.send(JSON.stringify({ type: 'SpeechStarted', channel: [0], timestamp: 0.1 }));
        ws.send(results('', true, true));
        ws.send(JSON.stringify({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: 0 }));
        // An UtteranceEnd with nothing heard since the last turn ends nothing.
        ws.send(JSON.stringify({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: 0 }));
        ws.send(results('hello', true, true));
      });
    };
    const events = recorder();
    const stream = await createDeepgramListen({ provider: { type: 'deepgram', model: 'nova-3' } }, testContext(env())).open(events);
    stream.write(new Int16Array([1, 2, 3, 4]));
    await events.next(/^end:hello/);
    assert.deepEqual(events.log, ['start', 'end:', 'start', 'end:hello']);
    stream.close();
    await fake.waitForClose();
  });

  test('Flux: /v2/listen with EOT settings, TurnInfo events mapped, forceEndTurn supported', async () => {
    fake.reset();
    fake.onConnection = (ws) => {
      ws.send(JSON.stringify({ type: 'Connected', request_id: 'r', sequence_id: 0 }));
      ws.send(JSON.stringify({ type: 'TurnInfo', event: 'StartOfTurn', turn_index: 0, transcript: '' }));
      ws.send(JSON.stringify({ type: 'TurnInfo', event: 'Update', turn_index: 0, transcript: 'book a' }));
      ws.send(JSON.stringify({ type: 'TurnInfo', event: 'EndOfTurn', turn_index: 0, transcript: 'book a table', end_of_turn_confidence: 0.9 }));
    };
    const events = recorder();
    const stream = await createDeepgramListen(
      { provider: { type: 'deepgram', version: 'v2', model: 'flux-general-en', eot_threshold: 0.8, eager_eot_threshold: 0.5, eot_timeout_ms: 3000 } },
      testContext(env()),
    ).open(events);
    await events.next(/^end:/);
    assert.deepEqual(events.log, ['start', 'interim:book a', 'end:book a table']);
    const url = new URL(fake.lastUpgrade.url ?? '', 'ws://x');
    assert.equal(url.pathname, '/v2/listen');
    assert.equal(url.searchParams.get('eot_threshold'), '0.8');
    assert.equal(url.searchParams.get('eager_eot_threshold'), '0.5');
    assert.equal(url.searchParams.get('eot_timeout_ms'), '3000');
    assert.equal(stream.forceEndTurn(), true);
    stream.close();
  });

  test('a refused connection (401) rejects open with a ProviderError carrying the status', async () => {
    fake.reset();
    fake.refuse = { status: 401, body: '{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials."}' };
    await assert.rejects(createDeepgramListen({ provider: { type: 'deepgram' } }, testContext(env())).open(recorder()), (err) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.status, 401);
      assert.match(err.message, /Invalid credentials/);
      assert.ok(!err.message.includes('dg-listen-key'));
      return true;
    });
  });

  test('a server that never completes the upgrade times out', async () => {
    fake.reset();
    fake.hang = true;
    await assert.rejects(
      createDeepgramListen({ provider: { type: 'deepgram', timeout_ms: TEST_TIMEOUT_MS } }, testContext(env())).open(recorder()),
      ProviderError,
    );
  });

  test('an abnormal close after open reports failed, and a malformed message too', async () => {
    fake.reset();
    fake.onConnection = (ws) => setTimeout(() => ws.close(1011, 'internal error'), 20);
    const events = recorder();
    await createDeepgramListen({ provider: { type: 'deepgram' } }, testContext(env())).open(events);
    assert.match(await events.next(/^failed:/), /1011/);

    fake.reset();
    fake.onConnection = (ws) => ws.send('{"type":"Results",');
    const bad = recorder();
    await createDeepgramListen({ provider: { type: 'deepgram' } }, testContext(env())).open(bad);
    assert.match(await bad.next(/^failed:/), /malformed/);
  });
});

describe('listen open_ai (turn detector + transcription upload)', () => {
  let fake: HttpFake;
  before(async () => {
    fake = await HttpFake.start();
  });
  after(() => fake.close());
  const make = () =>
    createOpenAiListen()(
      { provider: { type: 'open_ai', model: 'whisper-1', language: 'en-US', timeout_ms: TEST_TIMEOUT_MS } },
      testContext({ OPENAI_API_KEY: 'sk-listen', OPENAI_BASE_URL: `${fake.url}/v1` }),
    );

  test('speech then silence: speechStarted, then the utterance is uploaded as WAV and its text ends the turn', async () => {
    fake.handler = (_req, res) => json(res, 200, { text: ' Hello there. ' });
    const events = recorder();
    const stream = await make().open(events);
    for (const frame of [tone(300, 0), tone(600, 8000), tone(900, 0)]) stream.write(frame);
    assert.equal(await events.next(/^end:/), 'end:Hello there.');
    assert.deepEqual(events.log, ['start', 'end:Hello there.']);
    const sent = fake.lastRequest;
    assert.equal(sent.url, '/v1/audio/transcriptions');
    assert.match(String(sent.headers['content-type']), /multipart\/form-data/);
    assert.match(sent.body, /RIFF/);
    assert.match(sent.body, /name="model"\r\n\r\nwhisper-1/);
    assert.match(sent.body, /name="language"\r\n\r\nen/);
    stream.close();
  });

  test('race: the next utterance, spoken before the last one is uploaded, leaves that upload as it was', async () => {
    fake.handler = (_req, res) => json(res, 200, { text: 'ok' });
    fake.requests.length = 0;
    const events = recorder();
    const stream = await make().open(events);
    // Samples whose bytes are ASCII ('AA', 'BB'), so that the recorded body shows whose audio it holds.
    const level = (ms: number, value: number): Int16Array => new Int16Array((16000 * ms) / 1000).fill(value);
    stream.write(level(300, 0));
    stream.write(level(600, 0x4141));
    stream.write(level(900, 0));
    // Both turns end before the first upload has even started: one buffer must not serve both.
    stream.write(level(1200, 0x4242));
    stream.write(level(900, 0));
    while (fake.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const [first, second] = fake.requests.map((request) => request.body);
    assert.ok(first?.includes('AAAA') && !first.includes('BB'), 'the first upload holds the first utterance only');
    assert.ok(second?.includes('BBBB') && !second.includes('AA'), 'the second upload holds the second utterance only');
    stream.close();
  });

  test('a failed upload (429) reports failed with the status in the message', async () => {
    fake.handler = (_req, res) => json(res, 429, { error: { message: 'Rate limit reached', type: 'x', code: null } });
    const events = recorder();
    const stream = await make().open(events);
    stream.write(tone(300, 9000));
    assert.equal(stream.forceEndTurn(), true);
    assert.match(await events.next(/^failed:/), /429.*Rate limit/);
    stream.close();
  });
});

describe('energy turn detector', () => {
  test('quiet hum is not speech; a loud stretch is one utterance ended by silence', () => {
    const log: string[] = [];
    const detector = new EnergyTurnDetector({ speechStart: () => log.push('start'), speechEnd: () => log.push('end') });
    detector.write(tone(1000, 30));
    assert.deepEqual(log, []);
    detector.write(tone(500, 6000));
    assert.deepEqual(log, ['start']);
    detector.write(tone(300, 0));
    assert.deepEqual(log, ['start'], 'a short pause does not end the turn');
    detector.write(tone(800, 0));
    assert.deepEqual(log, ['start', 'end']);
    assert.equal(detector.forceEnd(), false);
  });
});
