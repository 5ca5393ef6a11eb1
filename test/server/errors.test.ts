import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { startTestServer } from '../support/test-server.js';
import { scriptedProviders } from '../support/scripted-providers.js';
import { silentLogger } from '../../src/core/logger.js';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/index.js';

const LINEAR16 = { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } };

function settings(agent: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Json {
  return {
    type: 'Settings',
    audio: LINEAR16,
    agent: {
      listen: { provider: { type: 'scripted' } },
      think: { provider: { type: 'scripted' } },
      speak: { provider: { type: 'scripted' } },
      ...agent,
    },
    ...extra,
  };
}

/** Waits for the fatal Error and the close that follows it; returns the Error event. */
async function expectFatal(socket: AgentSocket, code: string): Promise<Json> {
  const error = await socket.waitFor('Error');
  assert.equal(error.code, code, `expected ${code}, got ${String(error.code)}: ${String(error.description)}`);
  assert.equal(typeof error.description, 'string');
  assert.ok(String(error.description).length > 10, 'the description is readable');
  assert.equal(await socket.closed(), 1000, 'fatal errors close with 1000 so SDK 5.x does not reconnect');
  return error;
}

async function applied(server: RunningServer, message: Json = settings()): Promise<AgentSocket> {
  const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
  socket.send(message);
  await socket.waitFor('SettingsApplied');
  return socket;
}

describe('errors and warnings', () => {
  let server: RunningServer;
  let bystander: AgentSocket;
  let functions: ReturnType<typeof createServer>;
  let functionsUrl = '';

  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
    bystander = await applied(server);
    functions = createServer((req, res) => {
      if (req.url === '/broken') {
        res.writeHead(500).end('database down');
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echoed: JSON.parse(body) as unknown })));
    });
    await new Promise<void>((resolve) => functions.listen(0, '127.0.0.1', resolve));
    functionsUrl = `http://127.0.0.1:${(functions.address() as AddressInfo).port}`;
  });

  after(async () => {
    // Every error above hit other sessions only: the bystander still converses.
    bystander.send({ type: 'InjectUserMessage', content: 'still there' });
    const reply = await bystander.waitFor('ConversationText', (e) => e.content === 'You said: still there.');
    assert.equal(reply.role, 'assistant');
    assert.deepEqual(bystander.events('Error'), []);
    bystander.close();
    functions.close();
    await server.close();
  });

  it('UNPARSABLE_CLIENT_MESSAGE for bad JSON, unknown types and schema violations', async () => {
    for (const [frame, pattern] of [
      ['{"type":"Settings"', /not valid JSON/],
      ['{"type":"Sing"}', /Unknown message type "Sing"/],
      ['{"type":"Settings","agent":{"greeting":42}}', /agent\.greeting: expected string, received number/],
    ] as const) {
      const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
      socket.sendRaw(frame);
      const error = await expectFatal(socket, 'UNPARSABLE_CLIENT_MESSAGE');
      assert.match(String(error.description), pattern);
    }
  });

  it('INVALID_SETTINGS names the unsupported value or the missing provider', async () => {
    let socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings({}, { audio: { input: { encoding: 'speex', sample_rate: 16000 } } }));
    assert.match(String((await expectFatal(socket, 'INVALID_SETTINGS')).description), /audio\.input\.encoding "speex"/);
    socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings({ think: { provider: { type: 'telepathy', model: 'x' } } }));
    assert.match(String((await expectFatal(socket, 'INVALID_SETTINGS')).description), /agent\.think\.provider\.type "telepathy"/);
  });

  it('AGENT_ID_NOT_SUPPORTED for a saved agent id', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send({ type: 'Settings', agent: '0b5e7d8a-1111-4222-8333-944445555666' });
    await expectFatal(socket, 'AGENT_ID_NOT_SUPPORTED');
  });

  it('NON_SETTINGS_MESSAGE_BEFORE_SETTINGS', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send({ type: 'KeepAlive' });
    assert.match(String((await expectFatal(socket, 'NON_SETTINGS_MESSAGE_BEFORE_SETTINGS')).description), /KeepAlive arrived before Settings/);
  });

  it('SETTINGS_ALREADY_APPLIED', async () => {
    const socket = await applied(server);
    socket.send(settings());
    await expectFatal(socket, 'SETTINGS_ALREADY_APPLIED');
  });

  it('FAILED_TO_START_LISTENING when the listener cannot start', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings({ listen: { provider: { type: 'scripted', fail: true } } }));
    await expectFatal(socket, 'FAILED_TO_START_LISTENING');
    assert.equal(socket.events('SettingsApplied').length, 0);
  });

  it('FAILED_TO_THINK when every think provider fails, after one THINK_REQUEST_FAILED each', async () => {
    const socket = await applied(server, settings({ think: [{ provider: { type: 'scripted', model: 'a', mode: 'fail' } }, { provider: { type: 'scripted', model: 'b', mode: 'fail' } }] }));
    socket.send({ type: 'InjectUserMessage', content: 'hello' });
    await expectFatal(socket, 'FAILED_TO_THINK');
    assert.deepEqual(socket.events('Warning').map((w) => w.code), ['THINK_REQUEST_FAILED', 'THINK_REQUEST_FAILED']);
  });

  it('a think fallback chain: the first fails with a warning, the second answers', async () => {
    const socket = await applied(server, settings({ think: [{ provider: { type: 'scripted', model: 'broken', mode: 'fail' } }, { provider: { type: 'scripted', model: 'ok' } }] }));
    socket.send({ type: 'InjectUserMessage', content: 'hello' });
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant');
    assert.equal(reply.content, 'You said: hello.');
    const [warning] = socket.events('Warning');
    assert.equal(warning?.code, 'THINK_REQUEST_FAILED');
    assert.match(String(warning?.description), /scripted\/broken failed: scripted think failure \(HTTP 500\)/);
    await socket.waitFor('AgentAudioDone');
    socket.close();
  });

  it('FAILED_TO_SPEAK when every voice fails; a speak fallback chain is heard from the second voice', async () => {
    let socket = await applied(server, settings({ speak: { provider: { type: 'scripted', mode: 'fail' } }, greeting: 'Hi there.' }));
    await expectFatal(socket, 'FAILED_TO_SPEAK');
    assert.deepEqual(socket.events('Warning').map((w) => w.code), ['SPEAK_REQUEST_FAILED']);
    socket = await applied(server, settings({ speak: [{ provider: { type: 'scripted', mode: 'fail' } }, { provider: { type: 'scripted' } }], greeting: 'Hi there.' }));
    await socket.waitFor('AgentAudioDone');
    assert.ok(socket.audioBytes() > 0);
    assert.deepEqual(socket.events('Warning').map((w) => w.code), ['SPEAK_REQUEST_FAILED']);
    socket.close();
  });

  it('NON_EXISTENT_FUNCTION_CALLED when the LLM calls an undefined function', async () => {
    const socket = await applied(server);
    socket.send({ type: 'InjectUserMessage', content: 'call an unknown function' });
    assert.match(String((await expectFatal(socket, 'NON_EXISTENT_FUNCTION_CALLED')).description), /"not_defined"/);
  });

  it('server-side functions: Parley calls the endpoint, reports request and response; FUNCTION_CALL_FAILED on failure', async () => {
    const socket = await applied(
      server,
      settings({
        think: {
          provider: { type: 'scripted' },
          functions: [
            { name: 'lookup', description: 'd', endpoint: { url: `${functionsUrl}/lookup`, method: 'post', headers: { 'x-test': '1' } } },
            { name: 'broken', description: 'd', endpoint: { url: `${functionsUrl}/broken` } },
          ],
        },
      }),
    );
    socket.send({ type: 'InjectUserMessage', content: 'please lookup the order' });
    const request = await socket.waitFor('FunctionCallRequest');
    assert.deepEqual((request.functions as Json[]).map((f) => [f.name, f.client_side]), [['lookup', false]]);
    const response = await socket.waitFor('FunctionCallResponse');
    assert.deepEqual(JSON.parse(String(response.content)), { echoed: { query: 'please lookup the order' } });
    const history = await socket.waitFor('History', (e) => Array.isArray(e.function_calls));
    assert.equal((history.function_calls as Json[])[0]?.response, response.content);
    await socket.waitFor('AgentAudioDone');

    socket.send({ type: 'InjectUserMessage', content: 'try the broken tool' });
    const warning = await socket.waitFor('Warning', (w) => w.code === 'FUNCTION_CALL_FAILED');
    assert.match(String(warning.description), /"broken" failed: HTTP 500: database down/);
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant' && String(e.content).includes('failed'));
    assert.match(String(reply.content), /The result is/);
    assert.deepEqual(socket.events('Error'), []);
    socket.close();
  });

  it('InjectionRefused with a warning while the agent speaks; queue and interrupt behaviours', async () => {
    const socket = await applied(server);
    socket.send({ type: 'InjectUserMessage', content: 'tell me a story' });
    await socket.waitFor('AgentStartedSpeaking');
    socket.send({ type: 'InjectAgentMessage', message: 'Refused.' });
    const refused = await socket.waitFor('InjectionRefused');
    assert.equal(typeof refused.message, 'string');
    assert.equal((await socket.waitFor('Warning')).code, 'INJECT_AGENT_MESSAGE_DURING_AGENT_SPEECH');
    socket.send({ type: 'InjectAgentMessage', message: 'Cutting in.', behavior: 'interrupt' });
    await socket.waitFor('ConversationText', (e) => e.content === 'Cutting in.');
    socket.send({ type: 'InjectAgentMessage', message: 'And after that.', behavior: 'queue' });
    await socket.waitFor('ConversationText', (e) => e.content === 'And after that.');
    await socket.waitFor('AgentAudioDone', () => true);
    const said = socket.events('ConversationText').map((e) => e.content);
    assert.ok(said.indexOf('Cutting in.') < said.indexOf('And after that.'));
    assert.ok(!said.includes('Refused.'));
    socket.close();
  });

  it('SLOW_THINK_REQUEST while the LLM has not answered for 5 s, then its answer', async () => {
    const socket = await applied(server, settings({ think: { provider: { type: 'scripted', model: 'slow', first_token_delay_ms: 5400 } } }));
    socket.send({ type: 'InjectUserMessage', content: 'hello' });
    const warning = await socket.waitFor('Warning');
    assert.equal(warning.code, 'SLOW_THINK_REQUEST');
    assert.match(String(warning.description), /scripted\/slow has not answered yet/);
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant', 30_000);
    assert.match(String(reply.content), /^You said/);
    assert.equal(socket.events('Warning').length, 1, 'the warning stops once tokens flow');
    socket.close();
  });

  it('FORCE_END_TURN_UNSUPPORTED warning with a listener that cannot force the end of turn', async () => {
    const socket = await applied(server);
    socket.send({ type: 'ForceEndTurn' });
    assert.equal((await socket.waitFor('Warning')).code, 'FORCE_END_TURN_UNSUPPORTED');
    socket.close();
  });

  it('text and binary frames over their limits are refused with a readable error', async () => {
    const small = await startTestServer({ maxTextFrameBytes: 2048, maxBinaryFrameBytes: 4096 });
    try {
      let socket = await AgentSocket.open(`${small.url}/v1/agent/converse`);
      socket.send(settings({ greeting: 'x'.repeat(3000) }));
      assert.match(String((await expectFatal(socket, 'UNPARSABLE_CLIENT_MESSAGE')).description), /exceeds the limit of 2048 bytes/);
      socket = await applied(small);
      socket.sendAudio(new Uint8Array(4098));
      assert.match(String((await expectFatal(socket, 'UNPARSABLE_CLIENT_MESSAGE')).description), /exceeds the limit of 4096 bytes/);
    } finally {
      await small.close();
    }
  });
});

describe('timers, limits, auth and drain', () => {
  it('CLIENT_MESSAGE_TIMEOUT after the idle limit; any frame keeps the session alive', async () => {
    const server = await startTestServer({ idleTimeoutMs: 400 });
    try {
      const alive = await applied(server);
      const idle = await applied(server);
      const keepAlive = setInterval(() => alive.send({ type: 'KeepAlive' }), 150);
      const error = await expectFatal(idle, 'CLIENT_MESSAGE_TIMEOUT');
      assert.match(String(error.description), /No message from the client for 400 ms/);
      await new Promise((r) => setTimeout(r, 300));
      clearInterval(keepAlive);
      assert.equal(alive.closeCode, undefined);
      alive.close();
    } finally {
      await server.close();
    }
  });

  it('MAXIMUM_SESSION_LENGTH_APPROACHING, then MAXIMUM_SESSION_LENGTH_REACHED', async () => {
    const server = await startTestServer({ maxSessionMs: 1500, sessionWarningMs: 1000 });
    try {
      const socket = await applied(server);
      await new Promise((r) => setTimeout(r, 700));
      // A younger session is not at its limit when the first one reaches its own.
      const younger = await applied(server);
      const warning = await socket.waitFor('Warning');
      assert.equal(warning.code, 'MAXIMUM_SESSION_LENGTH_APPROACHING');
      assert.match(String(warning.description), /will end in 1 s/);
      await expectFatal(socket, 'MAXIMUM_SESSION_LENGTH_REACHED');
      assert.equal(younger.closeCode, undefined);
      younger.send({ type: 'InjectUserMessage', content: 'hello' });
      assert.equal((await younger.waitFor('ConversationText', (e) => e.role === 'assistant')).content, 'You said: hello.');
      younger.close();
    } finally {
      await server.close();
    }
  });

  it('refuses bad keys with 401 and accepts Token, Bearer, subprotocol and ?token= credentials', async () => {
    const server = await startTestServer({ apiKeys: ['k1', 'k2'] });
    const path = `${server.url}/v1/agent/converse`;
    try {
      await assert.rejects(AgentSocket.open(path), /HTTP 401/);
      await assert.rejects(AgentSocket.open(path, { headers: { authorization: 'Token nope' } }), /HTTP 401/);
      const accepted = [
        await AgentSocket.open(path, { headers: { authorization: 'Token k1' } }),
        await AgentSocket.open(path, { headers: { authorization: 'bearer k2' } }),
        await AgentSocket.open(path, { protocols: ['token', 'k1'] }),
        await AgentSocket.open(`${path}?token=k2`),
      ];
      assert.equal(accepted[2]?.ws.protocol, 'token', 'the first offered subprotocol is echoed');
      for (const socket of accepted) {
        await socket.waitFor('Welcome');
        socket.close();
      }
      const metrics = await (await fetch(`${server.url.replace('ws', 'http')}/metrics`)).text();
      assert.match(metrics, /parley_upgrades_refused_total\{status="401"\} 2/);
    } finally {
      await server.close();
    }
  });

  it('refuses sessions past the limit with 503 and unknown paths with 404', async () => {
    const server = await startTestServer({ maxSessions: 1 });
    try {
      const first = await AgentSocket.open(`${server.url}/agent`);
      await assert.rejects(AgentSocket.open(`${server.url}/agent`), /HTTP 503/);
      await assert.rejects(AgentSocket.open(`${server.url}/nowhere`), /HTTP 404/);
      first.close();
    } finally {
      await server.close();
    }
  });

  it('/healthz answers 503 "starting" until the engines are loaded, then 200', async () => {
    let loaded: () => void = () => undefined;
    const server = await startServer({
      config: { ...loadServerConfig({}), port: 0 },
      providers: scriptedProviders(),
      createAudio: sessionAudioFactory(200),
      logger: silentLogger(),
      ready: new Promise<void>((resolve) => (loaded = resolve)),
    });
    try {
      const health = `${server.url.replace('ws', 'http')}/healthz`;
      const before = await fetch(health);
      assert.equal(before.status, 503);
      assert.equal(((await before.json()) as Json).status, 'starting');
      loaded();
      await new Promise((r) => setImmediate(r));
      assert.equal((await fetch(health)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('SERVER_GOING_AWAY on drain, with /healthz answering 503 meanwhile', async () => {
    const server = await startTestServer({ drainTimeoutMs: 500 });
    const http = server.url.replace('ws', 'http');
    assert.equal((await fetch(`${http}/healthz`)).status, 200);
    const socket = await applied(server);
    const draining = server.drain();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await fetch(`${http}/healthz`)).status, 503);
    await expectFatal(socket, 'SERVER_GOING_AWAY');
    await draining;
  });
});
