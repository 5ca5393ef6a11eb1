import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import type { RunningServer } from '../../src/server/index.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import { AgentSocket } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { scriptedProviders } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';

const LINEAR16 = { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } };

function settings(agent: Record<string, unknown> = {}): Json {
  return {
    type: 'Settings',
    audio: LINEAR16,
    agent: {
      listen: { provider: { type: 'scripted' } },
      think: { provider: { type: 'scripted' } },
      speak: { provider: { type: 'scripted' } },
      ...agent,
    },
  };
}

/** A server inside the network (on loopback) that a client must not reach through Parley. */
async function insideServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The URL with its host replaced by this machine's name, which resolves to loopback or a private address. */
function byName(url: string): string {
  const parsed = new URL(url);
  parsed.hostname = hostname();
  return parsed.toString().replace(/\/$/, '');
}

async function fatal(socket: AgentSocket, code: string): Promise<Json> {
  const error = await socket.waitFor('Error');
  assert.equal(error.code, code, `expected ${code}, got ${String(error.code)}: ${String(error.description)}`);
  assert.equal(await socket.closed(), 1000);
  return error;
}

describe('outbound guard through the server (no allow-list)', () => {
  let server: RunningServer;
  let inside: Awaited<ReturnType<typeof insideServer>>;
  before(async () => {
    inside = await insideServer((_req, res) => res.end(JSON.stringify({ secret: 'internal data' })));
    server = await startTestServer({ idleTimeoutMs: 60_000 }, scriptedProviders(), { PARLEY_ALLOWED_HOSTS: '' });
  });
  after(async () => {
    await server.close();
    await stop(inside.server);
  });

  const literal: [string, Record<string, unknown>, RegExp][] = [
    ['a function endpoint on loopback', { think: { provider: { type: 'scripted' }, functions: [{ name: 'lookup', endpoint: { url: '' } }] } }, /think\.functions\[0\]\.endpoint\.url: 127\.0\.0\.1:\d+ is in the loopback/],
    ['a think endpoint at the metadata address', { think: { provider: { type: 'scripted' }, endpoint: { url: 'http://169.254.169.254/latest/meta-data/' } } }, /think\.endpoint\.url: 169\.254\.169\.254 is in the link-local/],
    ['a speak endpoint on [::1]', { speak: { provider: { type: 'scripted' }, endpoint: { url: 'http://[::1]:8080/v1/speak' } } }, /speak\.endpoint\.url: \[::1\]:8080 is in the loopback/],
    ['a listen endpoint at localhost', { listen: { provider: { type: 'scripted' }, endpoint: { url: 'ws://localhost:9000/v1/listen' } } }, /listen\.endpoint\.url: localhost:9000 is this server itself/],
    ['a decimal loopback address in a fallback voice', { speak: [{ provider: { type: 'scripted' } }, { provider: { type: 'scripted' }, endpoint: { url: 'http://2130706433/' } }] }, /speak\[1\]\.endpoint\.url: 127\.0\.0\.1 is in the loopback/],
  ];
  for (const [what, agent, description] of literal) {
    it(`refuses Settings with ${what}: INVALID_SETTINGS naming the field and PARLEY_ALLOWED_HOSTS`, async () => {
      const fn = (agent['think'] as { functions?: { endpoint: { url: string } }[] } | undefined)?.functions?.[0];
      if (fn !== undefined) fn.endpoint.url = `${inside.url}/lookup`;
      const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
      socket.send(settings(agent));
      const error = await fatal(socket, 'INVALID_SETTINGS');
      assert.match(String(error.description), description);
      assert.match(String(error.description), /PARLEY_ALLOWED_HOSTS=/);
      assert.deepEqual(inside.hits, []);
    });
  }

  it('a function endpoint whose name resolves inside: FUNCTION_CALL_FAILED, nothing reached, the turn still answered', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings({ think: { provider: { type: 'scripted' }, functions: [{ name: 'lookup', endpoint: { url: `${byName(inside.url)}/lookup` } }] } }));
    await socket.waitFor('SettingsApplied');
    socket.send({ type: 'InjectUserMessage', content: 'please lookup the order' });
    const warning = await socket.waitFor('Warning', (w) => w.code === 'FUNCTION_CALL_FAILED');
    assert.match(String(warning.description), new RegExp(`"lookup" failed: ${hostname()} resolves to .* PARLEY_ALLOWED_HOSTS=${hostname()}`));
    const response = await socket.waitFor('FunctionCallResponse');
    assert.doesNotMatch(String(response.content), /internal data/);
    const reply = await socket.waitFor('ConversationText', (e) => e.role === 'assistant');
    assert.match(String(reply.content), /The result is/);
    assert.deepEqual(inside.hits, []);
    socket.close();
  });
});

describe('function results are bounded', () => {
  let server: RunningServer;
  let inside: Awaited<ReturnType<typeof insideServer>>;
  let bytesWritten = 0;
  before(async () => {
    inside = await insideServer((req, res) => {
      if (req.url === '/huge') {
        // 400 MB, written only as fast as the reader takes it.
        const chunk = Buffer.alloc(1024 * 1024, 'a');
        let left = 400;
        const pump = (): void => {
          while (left > 0 && !res.destroyed) {
            left--;
            bytesWritten += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`database down, key sk-client-secret-123 ${'x'.repeat(100_000)}`);
    });
    // The default test env allows 127.0.0.1: these endpoints are reachable, only their size is at stake.
    server = await startTestServer({ idleTimeoutMs: 60_000 });
  });
  after(async () => {
    await server.close();
    await stop(inside.server);
  });

  it('a 400 MB function body: FUNCTION_CALL_FAILED after 64 KiB, memory stays flat, another session is unaffected', async () => {
    const bystander = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    bystander.send(settings());
    await bystander.waitFor('SettingsApplied');
    const rssBefore = process.memoryUsage().rss;

    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(settings({ think: { provider: { type: 'scripted' }, functions: [{ name: 'download', endpoint: { url: `${inside.url}/huge`, method: 'get' } }] } }));
    await socket.waitFor('SettingsApplied');
    socket.send({ type: 'InjectUserMessage', content: 'download everything' });
    bystander.send({ type: 'InjectUserMessage', content: 'are you still there' });
    const warning = await socket.waitFor('Warning', (w) => w.code === 'FUNCTION_CALL_FAILED', 60_000);
    assert.match(String(warning.description), /"download" failed: the response is larger than 65536 bytes \(PARLEY_MAX_FUNCTION_RESULT_BYTES\)/);
    const answer = await bystander.waitFor('ConversationText', (e) => e.role === 'assistant', 30_000);
    assert.match(String(answer.content), /are you still there/i);
    await socket.waitFor('ConversationText', (e) => e.role === 'assistant');
    const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    assert.ok(grownMb < 100, `the server grew by ${grownMb.toFixed(0)} MB`);
    assert.ok(bytesWritten < 64 * 1024 * 1024, `the endpoint got to write ${(bytesWritten / 1024 / 1024).toFixed(0)} MB of 400`);
    assert.deepEqual(socket.events('Error'), []);
    assert.deepEqual(bystander.events('Error'), []);
    socket.close();
    bystander.close();
  });

  it("an endpoint's error body is quoted briefly, with the client's header values redacted", async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send(
      settings({
        think: {
          provider: { type: 'scripted' },
          functions: [{ name: 'broken', endpoint: { url: `${inside.url}/broken`, headers: { authorization: 'sk-client-secret-123' } } }],
        },
      }),
    );
    await socket.waitFor('SettingsApplied');
    socket.send({ type: 'InjectUserMessage', content: 'try the broken tool' });
    const warning = await socket.waitFor('Warning', (w) => w.code === 'FUNCTION_CALL_FAILED');
    const description = String(warning.description);
    assert.match(description, /"broken" failed: HTTP 500: database down, key \[redacted\] x+…$/);
    assert.ok(description.length < 300, `${description.length} characters`);
    socket.close();
  });
});

describe('think and speak endpoints that resolve inside (real providers)', () => {
  let parley: Parley;
  let inside: Awaited<ReturnType<typeof insideServer>>;
  before(async () => {
    inside = await insideServer((_req, res) => res.end('{}'));
    parley = await startParley({ env: { PATH: process.env['PATH'] }, overrides: { port: 0, idleTimeoutMs: 60_000 }, logger: silentLogger() });
  });
  after(async () => {
    // Closes while the just-ended sessions' listen jobs may still be starting in their workers
    // (see "race: close() while a cancelled handler is still busy…" in worker-pool.test.ts).
    await parley.close();
    await stop(inside.server);
  });

  async function session(): Promise<AgentSocket> {
    const socket = await AgentSocket.open(`${parley.server.url}/v1/agent/converse`);
    socket.send({
      type: 'Settings',
      audio: LINEAR16,
      agent: {
        listen: { provider: { type: 'local' } },
        think: { provider: { type: 'open_ai', model: 'inside' }, endpoint: { url: `${byName(inside.url)}/v1/chat/completions` } },
        speak: { provider: { type: 'open_ai', model: 'tts-1' }, endpoint: { url: `${byName(inside.url)}/v1/audio/speech` } },
      },
    });
    await socket.waitFor('SettingsApplied');
    return socket;
  }

  it('an open_ai think endpoint by name: the warning and the error say what was refused and how to allow it', async () => {
    const socket = await session();
    socket.send({ type: 'InjectUserMessage', content: 'hello' });
    const warning = await socket.waitFor('Warning', (w) => w.code === 'THINK_REQUEST_FAILED');
    assert.match(String(warning.description), new RegExp(`${hostname()} resolves to .*PARLEY_ALLOWED_HOSTS=${hostname()}`));
    const error = await fatal(socket, 'FAILED_TO_THINK');
    assert.match(String(error.description), new RegExp(`${hostname()} resolves to`));
    assert.deepEqual(inside.hits, []);
  });

  it('an open_ai speak endpoint by name: the same, for speech', async () => {
    const socket = await session();
    socket.send({ type: 'InjectAgentMessage', message: 'Said by the agent.' });
    const warning = await socket.waitFor('Warning', (w) => w.code === 'SPEAK_REQUEST_FAILED');
    assert.match(String(warning.description), new RegExp(`${hostname()} resolves to .*PARLEY_ALLOWED_HOSTS=${hostname()}`));
    await fatal(socket, 'FAILED_TO_SPEAK');
    assert.deepEqual(inside.hits, []);
  });
});
