import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createDeepgramSpeak } from '../../../src/speak/cloud/deepgram.js';
import { createElevenLabsSpeak } from '../../../src/speak/cloud/eleven-labs.js';
import { createOpenAiSpeak } from '../../../src/speak/cloud/openai.js';
import { createPollySpeak } from '../../../src/speak/cloud/polly.js';
import type { PcmChunk, SpeakProvider } from '../../../src/speak/types.js';
import type { AgentConfig } from '../../../src/protocol/agent-config.js';
import { HttpFake, json } from '../../providers/fakes/http.js';
import { failureSuite } from '../../providers/failure-suite.js';
import { collect, TEST_TIMEOUT_MS, testContext } from '../../providers/helpers.js';

const SAMPLES = [1, -2, 300, -400, 32767, -32768, 7];
const PCM = Buffer.from(new Int16Array(SAMPLES).buffer);

/** Writes the PCM in odd-sized pieces so samples straddle network chunks. */
function writeOddChunks(res: ServerResponse, contentType: string): void {
  res.writeHead(200, { 'content-type': contentType });
  res.write(PCM.subarray(0, 3));
  setTimeout(() => {
    res.write(PCM.subarray(3, 8));
    setTimeout(() => res.end(PCM.subarray(8)), 5);
  }, 5);
}

function startAudio(res: ServerResponse, contentType = 'audio/l16'): void {
  res.writeHead(200, { 'content-type': contentType });
  res.write(PCM.subarray(0, 4));
}

function samplesOf(chunks: PcmChunk[]): number[] {
  return chunks.flatMap((c) => [...c.samples]);
}

function speakSuite(
  name: string,
  options: {
    http2?: boolean;
    cutDetectable?: boolean;
    make(fake: HttpFake): SpeakProvider;
    error(res: ServerResponse, status: number): void;
    unauthorizedText: RegExp;
    secret: string;
    rate: number;
    contentType: string;
    check(fake: HttpFake): void;
  },
): void {
  describe(`speak ${name}`, () => {
    let fake: HttpFake;
    before(async () => {
      fake = await HttpFake.start({ http2: options.http2 === true });
    });
    after(() => fake.close());

    test('streams PCM16 at the provider rate, joining samples split across chunks', async () => {
      fake.handler = (_req, res) => writeOddChunks(res, options.contentType);
      const chunks = await collect(options.make(fake).synthesize('Hello there.', new AbortController().signal));
      assert.ok(chunks.length >= 2, 'audio should stream in several chunks');
      assert.deepEqual(samplesOf(chunks), SAMPLES);
      assert.ok(chunks.every((c) => c.sampleRate === options.rate));
      options.check(fake);
    });

    failureSuite({
      fake: () => fake,
      error: (res, status) => options.error(res, status),
      head: (res) => startAudio(res, options.contentType),
      finalEvent: false,
      cutDetectable: options.cutDetectable !== false,
      run: (signal, onItem) => collect(options.make(fake).synthesize('Hello there.', signal), onItem),
      unauthorizedText: options.unauthorizedText,
      secret: options.secret,
    });
  });
}

const DG_KEY = 'dg-secret-key-1234';
speakSuite('deepgram (Aura REST)', {
  make: (fake) =>
    createDeepgramSpeak(
      { provider: { type: 'deepgram', model: 'aura-2-thalia-en', speed: 1.2, timeout_ms: TEST_TIMEOUT_MS } },
      testContext({ DEEPGRAM_API_KEY: DG_KEY, DEEPGRAM_BASE_URL: fake.url }),
    ),
  error: (res, status) => json(res, status, { err_code: status === 401 ? 'INVALID_AUTH' : 'ERROR', err_msg: status === 401 ? 'Invalid credentials.' : 'Busy', request_id: 'r' }),
  unauthorizedText: /Invalid credentials/,
  secret: DG_KEY,
  rate: 24000,
  contentType: 'audio/l16;rate=24000',
  check: (fake) => {
    const sent = fake.lastRequest;
    const url = new URL(sent.url, fake.url);
    assert.equal(url.pathname, '/v1/speak');
    assert.equal(url.searchParams.get('model'), 'aura-2-thalia-en');
    assert.equal(url.searchParams.get('encoding'), 'linear16');
    assert.equal(url.searchParams.get('sample_rate'), '24000');
    assert.equal(url.searchParams.get('speed'), '1.2');
    assert.equal(sent.headers['authorization'], `Token ${DG_KEY}`);
    assert.deepEqual(JSON.parse(sent.body), { text: 'Hello there.' });
  },
});

const OA_KEY = 'sk-openai-tts-5678';
speakSuite('open_ai (audio/speech, pcm)', {
  make: (fake) =>
    createOpenAiSpeak(
      {
        provider: { type: 'open_ai', model: 'gpt-4o-mini-tts', voice: 'nova', timeout_ms: TEST_TIMEOUT_MS },
        endpoint: { url: `${fake.url}/v1/audio/speech`, headers: { authorization: `Bearer ${OA_KEY}` } },
      },
      testContext(),
    ),
  error: (res, status) => json(res, status, { error: { message: status === 401 ? 'Incorrect API key provided' : 'Slow down', type: 'x', code: null } }),
  unauthorizedText: /Incorrect API key/,
  secret: OA_KEY,
  rate: 24000,
  contentType: 'audio/pcm',
  check: (fake) => {
    assert.equal(fake.lastRequest.url, '/v1/audio/speech');
    assert.deepEqual(JSON.parse(fake.lastRequest.body), { model: 'gpt-4o-mini-tts', voice: 'nova', input: 'Hello there.', response_format: 'pcm' });
  },
});

const XI_KEY = 'xi-secret-9999';
speakSuite('eleven_labs (HTTP streaming)', {
  make: (fake) =>
    createElevenLabsSpeak(
      {
        provider: { type: 'eleven_labs', model_id: 'eleven_turbo_v2_5', language: 'en', timeout_ms: TEST_TIMEOUT_MS },
        endpoint: { url: `${fake.url}/v1/text-to-speech/voice123/stream`, headers: { 'xi-api-key': XI_KEY } },
      },
      testContext(),
    ),
  error: (res, status) => json(res, status, { detail: { status: status === 401 ? 'invalid_api_key' : 'too_many_concurrent_requests', message: 'Invalid API key' } }),
  unauthorizedText: /invalid_api_key|Invalid API key/,
  secret: XI_KEY,
  rate: 24000,
  contentType: 'audio/pcm',
  check: (fake) => {
    assert.equal(fake.lastRequest.url, '/v1/text-to-speech/voice123/stream?output_format=pcm_24000');
    assert.equal(fake.lastRequest.headers['xi-api-key'], XI_KEY);
    assert.deepEqual(JSON.parse(fake.lastRequest.body), { text: 'Hello there.', model_id: 'eleven_turbo_v2_5', language_code: 'en' });
  },
});

const AWS_SECRET = 'polly-secret-key-4321';
speakSuite('aws_polly (SynthesizeSpeech pcm, HTTP/2 like the AWS client)', {
  http2: true,
  cutDetectable: false,
  make: (fake) =>
    createPollySpeak(
      {
        provider: {
          type: 'aws_polly',
          voice: 'Matthew',
          language: 'en-US',
          engine: 'neural',
          timeout_ms: TEST_TIMEOUT_MS,
          credentials: { type: 'iam', region: 'us-west-2', access_key_id: 'AKIAPOLLY', secret_access_key: AWS_SECRET },
        },
        endpoint: { url: fake.url, headers: {} },
      },
      testContext(),
    ),
  error: (res, status) => {
    const types: Record<number, string> = { 401: 'UnrecognizedClientException', 429: 'ThrottlingException', 500: 'ServiceFailureException' };
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': `${types[status]}:` });
    res.end(JSON.stringify({ message: status === 401 ? 'The security token included in the request is invalid.' : 'Rate exceeded' }));
  },
  unauthorizedText: /security token/,
  secret: AWS_SECRET,
  rate: 16000,
  contentType: 'audio/pcm',
  check: (fake) => {
    assert.equal(fake.lastRequest.url, '/v1/speech');
    assert.match(String(fake.lastRequest.headers['authorization']), /Credential=AKIAPOLLY\/\d+\/us-west-2\/polly\/aws4_request/);
    assert.deepEqual(JSON.parse(fake.lastRequest.body), {
      Engine: 'neural',
      LanguageCode: 'en-US',
      OutputFormat: 'pcm',
      SampleRate: '16000',
      Text: 'Hello there.',
      VoiceId: 'Matthew',
    });
  },
});

describe('speak deepgram at the session output rate', () => {
  let fake: HttpFake;
  before(async () => {
    fake = await HttpFake.start();
  });
  after(() => fake.close());

  test('asks Aura for the session rate when it has it (16 kHz, 8 kHz) and gets PCM at that rate; 24 kHz otherwise', async () => {
    fake.handler = (_req, res) => writeOddChunks(res, 'audio/l16');
    const asked: string[] = [];
    for (const sampleRate of [16000, 8000, 22050]) {
      const context = { ...testContext({ DEEPGRAM_API_KEY: DG_KEY, DEEPGRAM_BASE_URL: fake.url }), agent: { output: { encoding: 'linear16', sampleRate, container: 'none' } } as unknown as AgentConfig };
      const chunks = await collect(createDeepgramSpeak({ provider: { type: 'deepgram', timeout_ms: TEST_TIMEOUT_MS } }, context).synthesize('Hello there.', new AbortController().signal));
      const rate = new URL(fake.lastRequest.url, fake.url).searchParams.get('sample_rate') ?? '';
      asked.push(rate);
      assert.deepEqual(new Set(chunks.map((c) => c.sampleRate)), new Set([Number(rate)]));
    }
    assert.deepEqual(asked, ['16000', '8000', '24000']);
  });
});
