// The server's keys go only to each provider's own API or to the base URL the operator set:
// a URL the client chose gets the client's own credentials and nothing of the server's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { createDeepgramListen } from '../../src/listen/cloud/deepgram.js';
import { createOpenAiListen } from '../../src/listen/cloud/openai.js';
import type { ListenEvents } from '../../src/listen/types.js';
import type { Endpoint, ListenSettings } from '../../src/protocol/agent-config.js';
import { awsClientConfig } from '../../src/providers/aws.js';
import { canAuthenticate, keyMayGoTo, serverKeyFor } from '../../src/providers/keys.js';
import { createCartesiaSpeak } from '../../src/speak/cloud/cartesia.js';
import { createDeepgramSpeak } from '../../src/speak/cloud/deepgram.js';
import { createElevenLabsSpeak } from '../../src/speak/cloud/eleven-labs.js';
import { createOpenAiSpeak } from '../../src/speak/cloud/openai.js';
import { createAnthropicThink } from '../../src/think/cloud/anthropic.js';
import { createGoogleThink } from '../../src/think/cloud/google.js';
import { createOpenAiThink } from '../../src/think/cloud/openai.js';
import type { ThinkProvider } from '../../src/think/types.js';
import type { SpeakProvider } from '../../src/speak/types.js';
import { HttpFake, json } from './fakes/http.js';
import { WsFake } from './fakes/ws.js';
import { collect, FAKES_ALLOWED, TEST_TIMEOUT_MS, testContext } from './helpers.js';

const SERVER_KEY = 'server-secret-key-0042';
const ENV_KEYS = {
  OPENAI_API_KEY: SERVER_KEY,
  ANTHROPIC_API_KEY: SERVER_KEY,
  GOOGLE_API_KEY: SERVER_KEY,
  GEMINI_API_KEY: SERVER_KEY,
  GROQ_API_KEY: SERVER_KEY,
  XAI_API_KEY: SERVER_KEY,
  DEEPGRAM_API_KEY: SERVER_KEY,
  ELEVENLABS_API_KEY: SERVER_KEY,
  ELEVEN_LABS_API_KEY: SERVER_KEY,
  CARTESIA_API_KEY: SERVER_KEY,
};

/** Whether the server key is in any header value (or the request line) the fake saw. */
function carriesKey(headers: IncomingHttpHeaders, url = ''): boolean {
  const values = Object.values(headers).flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
  return [...values, url].some((value) => value.includes(SERVER_KEY));
}

const think = (provider: ThinkProvider) =>
  collect(provider.stream({ messages: [{ role: 'user', content: 'Hi' }], tools: [], signal: new AbortController().signal })).catch(() => []);
const speak = (provider: SpeakProvider) => collect(provider.synthesize('Hi.', new AbortController().signal)).catch(() => []);
const endpoint = (url: string, headers: Record<string, string> = {}): Endpoint => ({ url, headers });
const thinkSettings = (type: string, url?: string) => ({
  provider: { type, timeout_ms: TEST_TIMEOUT_MS },
  ...(url === undefined ? {} : { endpoint: endpoint(url) }),
  prompt: '',
  functions: [],
});

const quietEvents = (failed: () => void = () => undefined): ListenEvents => ({
  speechStarted: () => undefined,
  interim: () => undefined,
  endOfTurn: () => undefined,
  failed,
});

describe('the one rule: keyMayGoTo / serverKeyFor', () => {
  test('official hosts yes; look-alikes, other schemes and ports no', () => {
    assert.equal(keyMayGoTo('open_ai', 'https://api.openai.com/v1/chat/completions', {}), true);
    assert.equal(keyMayGoTo('open_ai', 'https://API.OPENAI.COM:443/v1', {}), true);
    assert.equal(keyMayGoTo('anthropic', 'https://api.anthropic.com/v1/messages', {}), true);
    assert.equal(keyMayGoTo('google', 'https://generativelanguage.googleapis.com/v1beta/models/x', {}), true);
    assert.equal(keyMayGoTo('groq', 'https://api.groq.com/openai/v1', {}), true);
    assert.equal(keyMayGoTo('x_ai', 'https://api.x.ai/v1', {}), true);
    assert.equal(keyMayGoTo('deepgram', 'wss://api.deepgram.com/v1/listen', {}), true);
    assert.equal(keyMayGoTo('deepgram', 'https://api.deepgram.com/v1/speak', {}), true);
    assert.equal(keyMayGoTo('eleven_labs', 'wss://api.elevenlabs.io/v1/text-to-speech/v/stream-input', {}), true);
    assert.equal(keyMayGoTo('cartesia', 'wss://api.cartesia.ai/tts/websocket', {}), true);
    assert.equal(keyMayGoTo('aws_bedrock', 'https://bedrock-runtime.us-west-2.amazonaws.com', {}), true);
    assert.equal(keyMayGoTo('aws_polly', 'https://polly.eu-central-1.amazonaws.com', {}), true);

    for (const url of [
      'https://api.openai.com.evil.example/v1',
      'http://api.openai.com@127.0.0.1/v1',
      'https://api.openai.com@evil.example/v1',
      'http://api.openai.com/v1',
      'https://api.openai.com:8443/v1',
      'https://evil.example/api.openai.com',
      'https://evil.example/?host=api.openai.com',
      'file:///etc/passwd',
      'not a url',
    ]) {
      assert.equal(keyMayGoTo('open_ai', url, {}), false, url);
    }
    assert.equal(keyMayGoTo('groq', 'https://api.openai.com/v1', {}), false, "another provider's host");
    assert.equal(keyMayGoTo('aws_bedrock', 'https://polly.us-east-1.amazonaws.com', {}), false);
    assert.equal(keyMayGoTo('aws_bedrock', 'https://bedrock-runtime.us-east-1.amazonaws.com.evil.example', {}), false);
    assert.equal(keyMayGoTo('aws_bedrock', 'https://evil.s3.amazonaws.com', {}), false);
    assert.equal(keyMayGoTo('aws_bedrock', 'http://bedrock-runtime.us-east-1.amazonaws.com', {}), false);
    assert.equal(keyMayGoTo('unknown', 'https://api.openai.com', {}), false);
  });

  test("the operator's base URL yes, by origin; the same base for another provider no", () => {
    const env = { OPENAI_BASE_URL: 'http://proxy.internal:8080/v1', DEEPGRAM_BASE_URL: 'https://dg.internal', ANTHROPIC_BASE_URL: 'http://claude.internal' };
    assert.equal(keyMayGoTo('open_ai', 'http://proxy.internal:8080/v1/chat/completions', env), true);
    assert.equal(keyMayGoTo('open_ai', 'http://proxy.internal:9090/v1', env), false);
    assert.equal(keyMayGoTo('open_ai', 'https://proxy.internal:8080/v1', env), false);
    assert.equal(keyMayGoTo('deepgram', 'wss://dg.internal/v1/listen', env), true);
    assert.equal(keyMayGoTo('anthropic', 'http://claude.internal/v1/messages', env), true);
    assert.equal(keyMayGoTo('groq', 'http://proxy.internal:8080/v1', env), false);
    assert.equal(keyMayGoTo('cartesia', 'https://dg.internal', env), false);
  });

  test('serverKeyFor hands out the env key only where it may go', () => {
    assert.equal(serverKeyFor('groq', 'https://api.groq.com/openai/v1', { GROQ_API_KEY: 'gsk' }), 'gsk');
    assert.equal(serverKeyFor('groq', 'http://127.0.0.1:1/openai/v1', { GROQ_API_KEY: 'gsk' }), undefined);
    assert.equal(serverKeyFor('google', 'https://generativelanguage.googleapis.com', { GEMINI_API_KEY: 'g' }), 'g');
    assert.equal(serverKeyFor('eleven_labs', 'https://api.elevenlabs.io/v1', { ELEVEN_LABS_API_KEY: 'e' }), 'e');
    assert.equal(serverKeyFor('open_ai', 'https://api.openai.com/v1', {}), undefined);
  });

  test('canAuthenticate: a client URL without a client key is not authenticated by the server key', () => {
    const at = (type: string, url: string, headers: Record<string, string> = {}) => ({ provider: { type }, endpoint: endpoint(url, headers) });
    assert.equal(canAuthenticate(at('deepgram', 'http://127.0.0.1:1'), ENV_KEYS), false);
    assert.equal(canAuthenticate(at('anthropic', 'http://127.0.0.1:1/v1/messages'), ENV_KEYS), false);
    assert.equal(canAuthenticate(at('deepgram', 'http://127.0.0.1:1', { authorization: 'Token mine' }), ENV_KEYS), true);
    assert.equal(canAuthenticate(at('deepgram', 'https://api.deepgram.com'), ENV_KEYS), true);
    assert.equal(canAuthenticate(at('deepgram', 'http://127.0.0.1:1'), { ...ENV_KEYS, DEEPGRAM_BASE_URL: 'http://127.0.0.1:1' }), true);
    assert.equal(canAuthenticate({ provider: { type: 'deepgram' } }, ENV_KEYS), true);
    assert.equal(canAuthenticate({ provider: { type: 'deepgram' } }, {}), false);
    // A self-hosted OpenAI-compatible server still works (and gets no server key, below).
    assert.equal(canAuthenticate(at('open_ai', 'http://127.0.0.1:1/v1/chat/completions'), {}), true);
  });

  test("AWS: the server's credentials sign only requests to AWS itself", () => {
    const env = { ...FAKES_ALLOWED, AWS_ACCESS_KEY_ID: 'AKIASERVER', AWS_SECRET_ACCESS_KEY: SERVER_KEY, AWS_SESSION_TOKEN: 'server-token-1', AWS_REGION: 'us-west-2' };
    const home = awsClientConfig('aws_bedrock', { type: 'aws_bedrock' }, undefined, env);
    assert.equal(home.config.credentials?.secretAccessKey, SERVER_KEY);
    const official = awsClientConfig('aws_polly', { type: 'aws_polly' }, endpoint('https://polly.us-west-2.amazonaws.com'), env);
    assert.equal(official.config.credentials?.accessKeyId, 'AKIASERVER');
    for (const service of ['aws_bedrock', 'aws_polly'] as const) {
      const away = awsClientConfig(service, { type: service }, endpoint('http://127.0.0.1:1'), env);
      assert.ok(away.config.credentials !== undefined, 'a placeholder, never the SDK default chain');
      assert.ok(!JSON.stringify(away.config.credentials).includes('SERVER'));
      assert.ok(!JSON.stringify(away.config.credentials).includes('server'));
    }
    const evilRegion = awsClientConfig('aws_bedrock', { type: 'aws_bedrock', credentials: { region: 'evil.example/#' } }, undefined, env);
    assert.ok(!JSON.stringify(evilRegion.config.credentials).includes(SERVER_KEY));
    const own = awsClientConfig('aws_bedrock', { type: 'aws_bedrock', credentials: { access_key_id: 'AKIAMINE', secret_access_key: 'mine' } }, endpoint('http://127.0.0.1:1'), env);
    assert.deepEqual(own.config.credentials, { accessKeyId: 'AKIAMINE', secretAccessKey: 'mine' });
  });
});

/**
 * Server secrets the OpenAI and Anthropic SDKs read from process.env by themselves (not from the
 * env Parley hands its providers): away from home they must stay unread.
 */
const SDK_ENV = {
  OPENAI_ADMIN_KEY: SERVER_KEY,
  OPENAI_ORG_ID: `org-${SERVER_KEY}`,
  OPENAI_PROJECT_ID: `proj-${SERVER_KEY}`,
  OPENAI_CUSTOM_HEADERS: `x-operator: ${SERVER_KEY}`,
  ANTHROPIC_AUTH_TOKEN: SERVER_KEY,
  ANTHROPIC_CUSTOM_HEADERS: `x-operator: ${SERVER_KEY}`,
};

describe('HTTP providers at a client URL get no server key; at the operator base URL they do', () => {
  let fake: HttpFake;
  before(async () => {
    fake = await HttpFake.start();
    fake.handler = (_req, res) => json(res, 401, { error: { message: 'no', type: 'x', code: null } });
    Object.assign(process.env, SDK_ENV);
  });
  after(() => {
    for (const name of Object.keys(SDK_ENV)) Reflect.deleteProperty(process.env, name);
    return fake.close();
  });

  const cases: { name: string; base?: string; run: (url: string, env: Record<string, string>) => Promise<unknown> }[] = [
    {
      name: 'think open_ai',
      base: 'OPENAI_BASE_URL',
      run: (url, env) => think(createOpenAiThink('open_ai')(thinkSettings('open_ai', `${url}/v1/chat/completions`), testContext(env))),
    },
    { name: 'think groq', run: (url, env) => think(createOpenAiThink('groq')(thinkSettings('groq', `${url}/openai/v1/chat/completions`), testContext(env))) },
    { name: 'think x_ai', run: (url, env) => think(createOpenAiThink('x_ai')(thinkSettings('x_ai', `${url}/v1/chat/completions`), testContext(env))) },
    {
      name: 'think anthropic',
      base: 'ANTHROPIC_BASE_URL',
      run: (url, env) => think(createAnthropicThink(thinkSettings('anthropic', `${url}/v1/messages`), testContext(env))),
    },
    {
      name: 'think google',
      run: (url, env) =>
        think(createGoogleThink(thinkSettings('google', `${url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`), testContext(env))),
    },
    {
      name: 'speak deepgram',
      base: 'DEEPGRAM_BASE_URL',
      run: (url, env) => speak(createDeepgramSpeak({ provider: { type: 'deepgram', timeout_ms: TEST_TIMEOUT_MS }, endpoint: endpoint(url) }, testContext(env))),
    },
    {
      name: 'speak open_ai',
      base: 'OPENAI_BASE_URL',
      run: (url, env) =>
        speak(createOpenAiSpeak({ provider: { type: 'open_ai', timeout_ms: TEST_TIMEOUT_MS }, endpoint: endpoint(`${url}/v1/audio/speech`) }, testContext(env))),
    },
    {
      name: 'speak eleven_labs (HTTP)',
      run: (url, env) =>
        speak(createElevenLabsSpeak({ provider: { type: 'eleven_labs', timeout_ms: TEST_TIMEOUT_MS }, endpoint: endpoint(`${url}/v1/text-to-speech/v/stream`) }, testContext(env))),
    },
    {
      name: 'listen open_ai',
      base: 'OPENAI_BASE_URL',
      run: async (url, env) => {
        const settings: ListenSettings = { provider: { type: 'open_ai', timeout_ms: TEST_TIMEOUT_MS }, endpoint: endpoint(`${url}/v1/audio/transcriptions`) };
        let failed!: () => void;
        const done = new Promise<void>((resolve) => (failed = resolve));
        const stream = await createOpenAiListen()(settings, testContext(env)).open(quietEvents(failed));
        stream.write(new Int16Array(4800).fill(9000));
        stream.forceEndTurn();
        await done;
        stream.close();
      },
    },
  ];

  for (const c of cases) {
    test(`${c.name}: the server key stays home`, async () => {
      fake.reset();
      await c.run(fake.url, ENV_KEYS);
      const sent = fake.lastRequest;
      assert.ok(!carriesKey(sent.headers, sent.url), `server key sent: ${JSON.stringify(sent.headers)}`);
    });
    if (c.base !== undefined) {
      const base = c.base;
      test(`${c.name}: with ${base} at that server the key is sent`, async () => {
        fake.reset();
        await c.run(fake.url, { ...ENV_KEYS, [base]: fake.url });
        const sent = fake.lastRequest;
        assert.ok(carriesKey(sent.headers, sent.url), `no server key in ${JSON.stringify(sent.headers)}`);
      });
    }
  }

  test('open_ai with no endpoint uses OPENAI_BASE_URL and sends the key there', async () => {
    fake.reset();
    await think(createOpenAiThink('open_ai')(thinkSettings('open_ai'), testContext({ ...ENV_KEYS, OPENAI_BASE_URL: `${fake.url}/v1` })));
    assert.equal(fake.lastRequest.url, '/v1/chat/completions');
    assert.equal(fake.lastRequest.headers['authorization'], `Bearer ${SERVER_KEY}`);
  });

  test("the client's own key still reaches the client's URL", async () => {
    fake.reset();
    const settings = { ...thinkSettings('open_ai'), endpoint: endpoint(`${fake.url}/v1/chat/completions`, { authorization: 'Bearer client-own-key' }) };
    await think(createOpenAiThink('open_ai')(settings, testContext(ENV_KEYS)));
    assert.equal(fake.lastRequest.headers['authorization'], 'Bearer client-own-key');
  });
});

describe('WebSocket providers at a client URL get no server key; at the operator base URL they do', () => {
  let fake: WsFake;
  before(async () => {
    fake = await WsFake.start();
  });
  after(() => fake.close());

  const listen = async (url: string, env: Record<string, string>): Promise<void> => {
    const settings: ListenSettings = { provider: { type: 'deepgram', timeout_ms: TEST_TIMEOUT_MS }, endpoint: endpoint(url) };
    await createDeepgramListen(settings, testContext(env)).open(quietEvents()).then((s) => s.close(), () => undefined);
  };
  const cases: { name: string; base?: string; run: (url: string, env: Record<string, string>) => Promise<unknown> }[] = [
    { name: 'listen deepgram', base: 'DEEPGRAM_BASE_URL', run: listen },
    {
      name: 'speak cartesia',
      run: (url, env) => speak(createCartesiaSpeak({ provider: { type: 'cartesia', timeout_ms: TEST_TIMEOUT_MS }, endpoint: endpoint(`${url}/tts/websocket`) }, testContext(env))),
    },
    {
      name: 'speak eleven_labs (WebSocket)',
      run: (url, env) =>
        speak(
          createElevenLabsSpeak(
            { provider: { type: 'eleven_labs', timeout_ms: TEST_TIMEOUT_MS }, endpoint: endpoint(`${url}/v1/text-to-speech/v/stream-input`) },
            testContext(env),
          ),
        ),
    },
  ];

  for (const c of cases) {
    test(`${c.name}: the server key stays home`, async () => {
      fake.reset();
      fake.refuse = { status: 401, body: '{"error":"no"}' };
      await c.run(fake.url, ENV_KEYS);
      assert.ok(!carriesKey(fake.lastUpgrade.headers, fake.lastUpgrade.url), `server key sent: ${JSON.stringify(fake.lastUpgrade.headers)}`);
    });
    if (c.base !== undefined) {
      const base = c.base;
      test(`${c.name}: with ${base} at that server the key is sent`, async () => {
        fake.reset();
        fake.refuse = { status: 401, body: '{"error":"no"}' };
        await c.run(fake.url, { ...ENV_KEYS, [base]: fake.url });
        assert.ok(carriesKey(fake.lastUpgrade.headers, fake.lastUpgrade.url), `no server key in ${JSON.stringify(fake.lastUpgrade.headers)}`);
      });
    }
  }
});
