// Projects, keys, granted tokens, the concurrency limit, usage and stored agents through a real
// server on a real SQLite store (the many-process behaviour on PostgreSQL is in
// test/server/many-processes.test.ts). Scripted providers: these are orchestration tests.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { silence } from '../support/agent-socket.js';
import type { AgentSocket } from '../support/agent-socket.js';
import { SCRIPTED_AGENT, eventually, httpJson, scriptedSettings, startStoreServer, openLateSlotStore, tryOpen } from '../support/platform.js';

const ADMIN = 'admin-key-for-tests-0123456789';

describe('projects, keys, tokens, limits, usage and stored agents (SQLite)', () => {
  let dir: string;
  let store: Store;
  let server: RunningServer;
  let http: string;
  let agentUrl: string;

  const admin = (method: string, path: string, body?: unknown) => httpJson(method, `${http}${path}`, { credential: ADMIN, ...(body === undefined ? {} : { body }) });

  async function newKey(projectId: string): Promise<{ id: string; key: string }> {
    const created = await admin('POST', `/v1/projects/${projectId}/keys`, { comment: 'test' });
    assert.equal(created.status, 200);
    return { id: String(created.body['api_key_id']), key: String(created.body['key']) };
  }

  async function project(name: string, limit?: number): Promise<string> {
    const created = await admin('POST', '/v1/projects', { name, ...(limit === undefined ? {} : { concurrency_limit: limit }) });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return String(created.body['project_id']);
  }

  async function session(credential: string, options: { bearerProtocol?: boolean; bearerHeader?: boolean } = {}): Promise<AgentSocket> {
    const opened = await tryOpen(agentUrl, { credential, ...options });
    if (!('socket' in opened)) throw new Error(`refused with ${opened.status}: ${opened.body}`);
    opened.socket.send(scriptedSettings());
    await opened.socket.waitFor('SettingsApplied');
    return opened.socket;
  }

  async function refusal(credential: string | undefined, options: { bearerProtocol?: boolean } = {}): Promise<{ status: number; body: string }> {
    const opened = await tryOpen(agentUrl, { ...(credential === undefined ? {} : { credential }), ...options });
    if ('socket' in opened) {
      opened.socket.close();
      throw new Error('the upgrade was accepted');
    }
    return opened;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-platform-'));
    store = await openSqliteStore(join(dir, 'parley.db'));
    server = await startStoreServer(store, { adminKey: ADMIN });
    http = server.url.replace('ws://', 'http://');
    agentUrl = `${server.url}/v1/agent/converse`;
  });

  after(async () => {
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the management API needs the admin key, shows a key once and stores only its hash', async () => {
    assert.equal((await httpJson('GET', `${http}/v1/projects`)).status, 401);
    assert.equal((await httpJson('GET', `${http}/v1/projects`, { credential: 'wrong' })).body['err_code'], 'INVALID_AUTH');
    const id = await project('shown-once');
    const { key, id: keyId } = await newKey(id);
    assert.match(key, /^[0-9a-f]{40}$/);
    const listed = await admin('GET', `/v1/projects/${id}/keys`);
    assert.equal(JSON.stringify(listed.body).includes(key), false, 'a listing never holds the secret');
    assert.deepEqual((listed.body['api_keys'] as { api_key: { api_key_id: string } }[]).map((k) => k.api_key.api_key_id), [keyId]);
    assert.equal(JSON.stringify(await store.listKeys(id)).includes(key), false);
    assert.equal((await admin('GET', '/v1/projects/nope/keys')).status, 404);
    assert.equal((await admin('POST', '/v1/projects', { name: '' })).status, 400);
    assert.equal((await admin('POST', '/v1/projects', { name: 'huge', concurrency_limit: 1e12 })).status, 400, 'past the store\'s integer columns');
    assert.equal((await admin('POST', `/v1/projects/${id}/keys`, { time_to_live_in_seconds: 1e15 })).status, 400, 'past the store\'s integer columns');
    assert.equal((await admin('PUT', '/v1/projects')).status, 405);
    assert.equal((await admin('GET', '/v1/projects/%E0%A4%A/keys')).status, 404, 'a broken escape is the client\'s mistake');
  });

  it('once a store key exists, a session needs a credential: no key and a wrong key get 401', async () => {
    assert.equal((await refusal(undefined)).status, 401);
    assert.equal((await refusal('0000000000000000000000000000000000000000')).status, 401);
  });

  it('a project limited to 1: the second session gets 429 naming the limit; after the first closes, a new one is accepted', async () => {
    const id = await project('limited', 1);
    const { key } = await newKey(id);
    const first = await session(key);
    const refused = await refusal(key);
    assert.equal(refused.status, 429);
    const body = JSON.parse(refused.body) as Record<string, unknown>;
    assert.equal(body['limit'], 'concurrent_sessions');
    assert.equal(body['limit_value'], 1);
    assert.equal(body['project_id'], id);
    assert.match(String(body['err_msg']), /limit/);
    first.close();
    await first.closed();
    await eventually(async () => (await store.openSlots(id)) === 0, 5000, 'the slot to be given back');
    const next = await session(key);
    next.close();
  });

  it('race: two upgrades of a project limited to 1 arrive together; exactly one is admitted', async () => {
    const id = await project('race', 1);
    const { key } = await newKey(id);
    const both = await Promise.all([tryOpen(agentUrl, { credential: key }), tryOpen(agentUrl, { credential: key })]);
    const admitted = both.filter((b) => 'socket' in b);
    const refused = both.filter((b) => !('socket' in b));
    assert.equal(admitted.length, 1);
    assert.equal((refused[0] as { status: number }).status, 429);
    for (const b of admitted) if ('socket' in b) b.socket.close();
  });

  it('a granted token works before its TTL, as bearer subprotocol or header, and is refused after it; a modified one is refused', async () => {
    const id = await project('tokens');
    const { key } = await newKey(id);
    const granted = await httpJson('POST', `${http}/v1/auth/grant`, { credential: key, body: { ttl_seconds: 2 } });
    assert.equal(granted.status, 200);
    assert.equal(granted.body['expires_in'], 2);
    const token = String(granted.body['access_token']);
    const viaProtocol = await session(token, { bearerProtocol: true });
    assert.equal(viaProtocol.ws.protocol, 'bearer', 'the first offered subprotocol is echoed');
    viaProtocol.close();
    (await session(token, { bearerHeader: true })).close();
    const [head, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, exp: Number(claims['exp']) + 3600 })).toString('base64url')}.${signature}`;
    assert.equal((await refusal(forged, { bearerProtocol: true })).status, 401, 'a longer expiry with the old signature');
    const flipped = `${token.slice(0, -2)}${token.endsWith('A') ? 'B' : 'A'}${token.slice(-1)}`;
    assert.equal((await refusal(flipped, { bearerProtocol: true })).status, 401, 'a changed signature');
    await new Promise((r) => setTimeout(r, Number(claims['exp']) * 1000 - Date.now() + 100));
    assert.equal((await refusal(token, { bearerProtocol: true })).status, 401, 'expired');
    assert.equal((await httpJson('POST', `${http}/v1/auth/grant`, { credential: token, scheme: 'Bearer' })).status, 401, 'a token cannot grant another');
    assert.equal((await httpJson('POST', `${http}/v1/auth/grant`, { credential: key, body: { ttl_seconds: 99999 } })).status, 400);
  });

  it('a token of a revoked key is refused, and so is the key', async () => {
    const id = await project('revoked');
    const { key, id: keyId } = await newKey(id);
    const token = String((await httpJson('POST', `${http}/v1/auth/grant`, { credential: key })).body['access_token']);
    (await session(token, { bearerProtocol: true })).close();
    assert.equal((await admin('DELETE', `/v1/projects/${id}/keys/${keyId}`)).status, 200);
    assert.equal((await refusal(token, { bearerProtocol: true })).status, 401);
    assert.equal((await refusal(key)).status, 401);
    assert.equal((await httpJson('POST', `${http}/v1/auth/grant`, { credential: key })).status, 401);
  });

  it('usage totals match the sessions run: connection seconds within 1 s, audio in exact, turns, think tier', async () => {
    const id = await project('usage');
    const { key } = await newKey(id);
    const started = Date.now();
    let measuredMs = 0;
    for (const tier of ['operator', 'client'] as const) {
      const opened = Date.now();
      const opening = await tryOpen(agentUrl, { credential: key });
      if (!('socket' in opening)) throw new Error(`refused: ${opening.status}`);
      const socket = opening.socket;
      const think = tier === 'client' ? { provider: { type: 'scripted' }, endpoint: { url: 'http://127.0.0.1:9/v1/chat/completions', headers: {} } } : SCRIPTED_AGENT.think;
      socket.send(scriptedSettings({ ...SCRIPTED_AGENT, think }));
      await socket.waitFor('SettingsApplied');
      socket.sendAudio(silence(1000));
      socket.send({ type: 'InjectUserMessage', content: 'hello there' });
      await socket.waitFor('AgentAudioDone');
      await new Promise((r) => setTimeout(r, 700));
      socket.close();
      await socket.closed();
      measuredMs += Date.now() - opened;
    }
    await eventually(async () => (await store.usage({ projectId: id })).sessions === 2, 5000, 'both usage records');
    const usage = await admin('GET', `/v1/projects/${id}/usage?start=${new Date(started - 1000).toISOString()}&end=${new Date(Date.now() + 1000).toISOString()}`);
    assert.equal(usage.status, 200);
    const body = usage.body as { sessions: number; connection_seconds: number; audio_in_seconds: number; audio_out_seconds: number; turns: number; think: Record<string, Record<string, number>> };
    assert.equal(body.sessions, 2);
    assert.ok(Math.abs(body.connection_seconds - measuredMs / 1000) < 1, `connection ${body.connection_seconds} s, measured ${measuredMs / 1000} s`);
    assert.equal(body.audio_in_seconds, 2, 'one second of audio sent per session');
    assert.ok(body.audio_out_seconds > 0.5, `agent audio ${body.audio_out_seconds} s`);
    assert.equal(body.turns, 2);
    assert.equal(body.think['operator']?.['sessions'], 1);
    assert.equal(body.think['client']?.['sessions'], 1);
    const before = await admin('GET', `/v1/projects/${id}/usage?end=${new Date(started - 60_000).toISOString()}`);
    assert.equal(before.body['sessions'], 0, 'the time window filters');
    assert.equal((await admin('GET', `/v1/projects/${id}/usage?start=yesterday`)).status, 400);
  });

  it('stored agents: a Settings naming one by id gets its configuration; an unknown or foreign id is INVALID_AGENT_ID', async () => {
    const id = await project('agents');
    const other = await project('agents-other');
    const { key } = await newKey(id);
    const { key: otherKey } = await newKey(other);
    const bad = await admin('POST', `/v1/projects/${id}/agents`, { config: JSON.stringify({ think: { provider: { type: 'scripted' }, functions: [{ name: 'no spaces allowed' }] } }) });
    assert.equal(bad.status, 400, 'a configuration that could not start a session is refused when stored');
    const created = await admin('POST', `/v1/projects/${id}/agents`, { config: JSON.stringify({ ...SCRIPTED_AGENT, greeting: 'Stored hello.' }), metadata: { name: 'front desk' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const agentId = String(created.body['agent_id']);
    assert.deepEqual((await admin('GET', `/v1/projects/${id}/agents`)).body['agents'] instanceof Array, true);

    const opened = await tryOpen(agentUrl, { credential: key });
    if (!('socket' in opened)) throw new Error('refused');
    opened.socket.send({ ...scriptedSettings(), agent: agentId });
    await opened.socket.waitFor('SettingsApplied');
    const greeting = await opened.socket.waitFor('ConversationText');
    assert.equal(greeting.content, 'Stored hello.');
    opened.socket.close();

    for (const [credential, agent] of [
      [key, '7e0c3c2e-0000-4000-8000-000000000000'],
      [otherKey, agentId],
    ] as const) {
      const attempt = await tryOpen(agentUrl, { credential });
      if (!('socket' in attempt)) throw new Error('refused');
      attempt.socket.send({ ...scriptedSettings(), agent });
      const error = await attempt.socket.waitFor('Error');
      assert.equal(error.code, 'INVALID_AGENT_ID');
      assert.match(String(error.description), /No stored agent/);
    }
    assert.equal((await admin('DELETE', `/v1/projects/${id}/agents/${agentId}`)).status, 200);
    assert.equal((await admin('GET', `/v1/projects/${id}/agents/${agentId}`)).status, 404);
  });
});

describe('a slow store', () => {
  it('race: a client that hangs up while its upgrade waits on the store gives its slot back', async () => {
    // The slot is taken only after the client is gone.
    const { store, late, projectId, key, slotTaken, close } = await openLateSlotStore(300);
    const server = await startStoreServer(late);
    try {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(`GET /v1/agent/converse HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Token ${key}\r\n\r\n`);
      await new Promise((r) => setTimeout(r, 100));
      socket.destroy();
      await slotTaken;
      await eventually(async () => (await store.openSlots(projectId)) === 0, 5000, 'the hung-up upgrade to give its slot back');
      const opened = await tryOpen(`${server.url}/v1/agent/converse`, { credential: key });
      assert.ok('socket' in opened, 'the next session is admitted');
      opened.socket.close();
    } finally {
      await server.close();
      await close();
    }
  });
});

describe('the management API without PARLEY_ADMIN_KEY', () => {
  it('is off: 403 with a description naming the variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-platform-'));
    const store = await openSqliteStore(join(dir, 'parley.db'));
    const server = await startStoreServer(store);
    try {
      const answer = await httpJson('GET', `${server.url.replace('ws://', 'http://')}/v1/projects`, { credential: 'anything' });
      assert.equal(answer.status, 403);
      assert.match(String(answer.body['err_msg']), /PARLEY_ADMIN_KEY/);
    } finally {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
