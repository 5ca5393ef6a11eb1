// One contract, two databases: every behaviour of the store is checked against SQLite (a file in
// a temporary folder) and a real PostgreSQL server started for the test.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashSecret, newKeySecret, openPostgresStore, openSqliteStore, parseExpiry } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';

interface Backend {
  name: string;
  /** A new empty database; `open` opens another connection to it, as a second process would. */
  fresh(): Promise<{ open(): Promise<Store> }>;
  stop(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'parley-store-'));
  let n = 0;
  return {
    name: 'sqlite',
    fresh() {
      const path = join(dir, `store-${++n}.db`);
      return Promise.resolve({ open: () => openSqliteStore(path) });
    },
    stop() {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

async function postgresBackend(): Promise<Backend> {
  const server: TestPostgres = await startPostgres();
  let n = 0;
  return {
    name: 'postgres',
    async fresh() {
      const url = await server.createDatabase(`store_${++n}`);
      return { open: () => openPostgresStore(url) };
    },
    stop: () => server.stop(),
  };
}

const HOLDER_A = 'process-a';
const HOLDER_B = 'process-b';

function contract(makeBackend: () => Backend | Promise<Backend>): void {
  let backend: Backend;
  let store: Store;
  let database: { open(): Promise<Store> };
  const others: Store[] = [];

  before(async () => {
    backend = await makeBackend();
    database = await backend.fresh();
    store = await database.open();
  });

  after(async () => {
    for (const other of others) await other.close();
    await store.close();
    await backend.stop();
  });

  async function second(): Promise<Store> {
    const other = await database.open();
    others.push(other);
    return other;
  }

  it('projects: created, listed, found, limit set and cleared', async () => {
    const a = await store.createProject({ name: 'alpha', concurrencyLimit: 3 });
    const b = await store.createProject({ name: 'beta' });
    const names = (await store.listProjects()).map((p) => p.name);
    assert.ok(names.includes('alpha') && names.includes('beta'));
    assert.equal((await store.getProject(a.id))?.concurrencyLimit, 3);
    assert.equal((await store.getProject(b.id))?.concurrencyLimit, undefined);
    await store.setConcurrencyLimit(b.id, 7);
    assert.equal((await store.getProject(b.id))?.concurrencyLimit, 7);
    await store.setConcurrencyLimit(b.id, undefined);
    assert.equal((await store.getProject(b.id))?.concurrencyLimit, undefined);
    assert.equal(await store.getProject('no-such-project'), undefined);
  });

  it('keys: only the hash is kept, found by it, revoked once, active keys counted', async () => {
    const project = await store.createProject({ name: 'keys' });
    const secret = newKeySecret();
    assert.match(secret, /^[0-9a-f]{40}$/);
    const key = await store.createKey({ projectId: project.id, secretHash: hashSecret(secret), comment: 'ci' });
    assert.equal(JSON.stringify(key).includes(secret), false, 'the key record holds no secret');
    assert.equal((await store.findKeyByHash(hashSecret(secret)))?.id, key.id);
    assert.equal(await store.findKeyByHash(hashSecret(newKeySecret())), undefined);
    assert.deepEqual((await store.listKeys(project.id)).map((k) => k.comment), ['ci']);
    assert.equal(await store.hasActiveKeys(), true);
    assert.equal(await store.revokeKey(key.id), true);
    assert.equal(await store.revokeKey(key.id), false, 'a revoked key is not revoked again');
    assert.ok((await store.getKey(key.id))?.revokedAt !== undefined);
    const expiring = await store.createKey({ projectId: project.id, secretHash: hashSecret(newKeySecret()), expiresAt: Date.now() + 1000 });
    assert.equal(await store.hasActiveKeys(Date.now()), true);
    assert.equal(await store.hasActiveKeys(Date.now() + 2000), false, 'an expired key is not active');
    assert.equal((await store.getKey(expiring.id))?.expiresAt !== undefined, true);
  });

  it('slots: the limit holds, a released slot is free again, an expired lease frees its slot', async () => {
    const project = await store.createProject({ name: 'slots' });
    const now = Date.now();
    const take = (sessionId: string, at = now) => store.acquireSlot({ sessionId, projectId: project.id, holder: HOLDER_A, limit: 2, leaseMs: 1000 }, at);
    assert.equal(await take('s1'), true);
    assert.equal(await take('s2'), true);
    assert.equal(await take('s3'), false);
    assert.equal(await store.openSlots(project.id, now), 2);
    await store.releaseSlot('s1');
    assert.equal(await take('s3'), true);
    // The holder stops renewing (it crashed): after its lease, its slots are free.
    assert.equal(await take('s4', now + 999), false);
    assert.equal(await take('s4', now + 1000), true);
    assert.equal(await store.openSlots(project.id, now + 1000), 1);
  });

  it('slots: the heartbeat keeps a live holder\'s slots; releasing a holder frees all of them', async () => {
    const project = await store.createProject({ name: 'heartbeat' });
    const now = Date.now();
    assert.equal(await store.acquireSlot({ sessionId: 'h1', projectId: project.id, holder: HOLDER_A, limit: 1, leaseMs: 1000 }, now), true);
    await store.renewSlots(HOLDER_A, 1000, now + 900);
    assert.equal(await store.acquireSlot({ sessionId: 'h2', projectId: project.id, holder: HOLDER_B, limit: 1, leaseMs: 1000 }, now + 1500), false, 'renewed: still held');
    await store.releaseHolder(HOLDER_A);
    assert.equal(await store.acquireSlot({ sessionId: 'h2', projectId: project.id, holder: HOLDER_B, limit: 1, leaseMs: 1000 }, now + 1500), true);
  });

  it('race: two processes take the last slots at once, and no more than the limit is granted', async () => {
    const other = await second();
    const project = await store.createProject({ name: 'race' });
    const attempts = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? store : other).acquireSlot({ sessionId: `race-${i}`, projectId: project.id, holder: i % 2 === 0 ? HOLDER_A : HOLDER_B, limit: 3, leaseMs: 60_000 }),
    );
    const granted = (await Promise.all(attempts)).filter(Boolean).length;
    assert.equal(granted, 3);
    assert.equal(await other.openSlots(project.id), 3);
  });

  it('race: two processes migrating one new database at once apply each migration once', async () => {
    const fresh = await backend.fresh();
    const [a, b] = await Promise.all([fresh.open(), fresh.open()]);
    const project = await a.createProject({ name: 'migrated' });
    assert.equal((await b.getProject(project.id))?.name, 'migrated');
    await a.close();
    await b.close();
  });

  it('usage: records sum per project and time range, split by think tier', async () => {
    const project = await store.createProject({ name: 'usage' });
    const base = Date.UTC(2026, 0, 1);
    const record = (sessionId: string, startedAt: number, thinkTier: 'operator' | 'client', connectionMs: number) =>
      store.recordUsage({ sessionId, projectId: project.id, keyId: 'k', thinkTier, startedAt, endedAt: startedAt + connectionMs, connectionMs, audioInMs: connectionMs / 2, audioOutMs: connectionMs / 4, turns: 2, llmInputTokens: 10, llmOutputTokens: 5 });
    await record('u1', base, 'operator', 10_000);
    await record('u2', base + 60_000, 'client', 4_000);
    await record('u3', base + 120_000, 'operator', 2_000);
    await store.recordUsage({ sessionId: 'elsewhere', thinkTier: 'operator', startedAt: base, endedAt: base + 1, connectionMs: 99_000, audioInMs: 0, audioOutMs: 0, turns: 0, llmInputTokens: 0, llmOutputTokens: 0 });
    const all = await store.usage({ projectId: project.id });
    assert.equal(all.sessions, 3);
    assert.equal(all.connectionMs, 16_000);
    assert.equal(all.audioInMs, 8_000);
    assert.equal(all.turns, 6);
    assert.equal(all.llmInputTokens, 30);
    assert.equal(all.byThinkTier.operator.connectionMs, 12_000);
    assert.equal(all.byThinkTier.client.sessions, 1);
    const window = await store.usage({ projectId: project.id, start: base + 60_000, end: base + 120_000 });
    assert.equal(window.sessions, 1);
    assert.equal(window.connectionMs, 4_000);
    assert.ok((await store.usage({})).connectionMs >= 115_000, 'without a project: every session');
  });

  it('agents: stored, listed per project, found, deleted only from their project', async () => {
    const project = await store.createProject({ name: 'agents' });
    const otherProject = await store.createProject({ name: 'agents-2' });
    const config = { think: { provider: { type: 'open_ai', model: 'gpt-4o-mini' }, prompt: 'Be brief.' }, greeting: 'Hi' };
    const created = await store.createAgent({ projectId: project.id, config, metadata: { team: 'support' } });
    assert.deepEqual((await store.getAgent(created.id))?.config, config);
    assert.deepEqual((await store.listAgents(project.id)).map((a) => a.metadata), [{ team: 'support' }]);
    assert.equal(await store.deleteAgent(otherProject.id, created.id), false);
    assert.equal(await store.deleteAgent(project.id, created.id), true);
    assert.equal(await store.getAgent(created.id), undefined);
  });

  it('race: two processes creating the shared secret at once agree on one value', async () => {
    const other = await second();
    const [a, b] = await Promise.all([store.sharedSecret('token', () => 'from-a'), other.sharedSecret('token', () => 'from-b')]);
    assert.equal(a, b);
    assert.equal(await store.sharedSecret('token', () => 'later'), a);
  });
}

describe('store contract: SQLite', () => contract(sqliteBackend));
describe('store contract: PostgreSQL', () => contract(postgresBackend));

describe('key expiry parsing', () => {
  it('reads durations and ISO times, refuses the past and nonsense', () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(parseExpiry('30d', now), now + 30 * 86_400_000);
    assert.equal(parseExpiry('90m', now), now + 90 * 60_000);
    assert.equal(parseExpiry('2026-02-01T00:00:00Z', now), Date.UTC(2026, 1, 1));
    assert.throws(() => parseExpiry('2025-01-01', now), /in the past/);
    assert.throws(() => parseExpiry('soon', now), /neither a duration/);
  });
});
