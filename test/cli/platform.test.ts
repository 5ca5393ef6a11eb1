/**
 * `parley keys`, `parley usage` and `parley agents` as a user runs them: the real command line in
 * its own process, on the SQLite store of a temporary PARLEY_DATA_DIR.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashSecret, openSqliteStore } from '../../src/store/index.js';

const MAIN = resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

describe('parley keys, usage and agents', () => {
  let dir: string;

  function parley(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done) => {
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PARLEY_DATA_DIR: dir, PARLEY_DATABASE_URL: '' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => done({ code, stdout, stderr }));
    });
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keys create prints the key once (stdout holds only it); list never shows it; revoke revokes', async () => {
    const created = await parley('keys', 'create', '--project', 'acme', '--concurrency', '1', '--expires', '30d', '--comment', 'web app');
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trim();
    assert.match(key, /^[0-9a-f]{40}$/);
    assert.match(created.stderr, /created project acme .*concurrency 1/);
    const listed = await parley('keys', 'list', '--project', 'acme');
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.includes(key) || listed.stderr.includes(key), false);
    const [row] = listed.stdout.trim().split('\n');
    const [id, project, status] = (row ?? '').split('\t');
    assert.equal(project, 'acme');
    assert.equal(status, 'active');

    const store = await openSqliteStore(join(dir, 'parley.db'));
    const stored = await store.findKeyByHash(hashSecret(key));
    assert.equal(stored?.id, id, 'the store finds the key by its hash');
    assert.equal((await store.getProject(stored?.projectId ?? ''))?.concurrencyLimit, 1);
    await store.close();

    assert.equal((await parley('keys', 'revoke', id ?? '')).code, 0);
    assert.match((await parley('keys', 'list')).stdout, /\trevoked\t/);
    const again = await parley('keys', 'revoke', id ?? '');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^parley: no active key/);
  });

  it('a mistake is one line and exit status 1, never a stack', async () => {
    const result = await parley('keys', 'create', '--project', 'acme', '--expires', 'soon');
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /neither a duration/);
  });

  it('usage prints the totals the store holds, per project and since a time', async () => {
    const store = await openSqliteStore(join(dir, 'parley.db'));
    const project = await store.createProject({ name: 'billing' });
    const now = Date.now();
    await store.recordUsage({ sessionId: 'old', projectId: project.id, thinkTier: 'operator', startedAt: now - 10 * 86_400_000, endedAt: now, connectionMs: 60_000, audioInMs: 1, audioOutMs: 1, turns: 1, llmInputTokens: 0, llmOutputTokens: 0 });
    await store.recordUsage({ sessionId: 'new', projectId: project.id, thinkTier: 'client', startedAt: now - 1000, endedAt: now, connectionMs: 90_000, audioInMs: 45_000, audioOutMs: 30_000, turns: 4, llmInputTokens: 120, llmOutputTokens: 40 });
    await store.close();
    const all = JSON.parse((await parley('usage', '--project', 'billing', '--json')).stdout) as Record<string, number>;
    assert.equal(all['sessions'], 2);
    assert.equal(all['connection_seconds'], 150);
    const recent = await parley('usage', '--project', 'billing', '--since', '7d');
    assert.equal(recent.code, 0, recent.stderr);
    assert.match(recent.stdout, /^total\s+1 sessions, 90 s connected \(0\.025 h\), audio in 45 s, out 30 s, 4 turns, LLM tokens 120 in \/ 40 out$/m);
    assert.match(recent.stdout, /^client's own LLM\s+1 sessions/m);
  });

  it('agents create stores the agent block of a settings file and prints its id; a broken one is refused', async () => {
    const file = join(dir, 'settings.json');
    writeFileSync(file, JSON.stringify({ type: 'Settings', audio: {}, agent: { think: { provider: { type: 'open_ai', model: 'gpt-4o-mini' }, prompt: 'Be brief.' }, greeting: 'Hi' } }));
    const created = await parley('agents', 'create', '--project', 'acme', '--file', file, '--name', 'front desk');
    assert.equal(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    const store = await openSqliteStore(join(dir, 'parley.db'));
    assert.deepEqual((await store.getAgent(id))?.config, { think: { provider: { type: 'open_ai', model: 'gpt-4o-mini' }, prompt: 'Be brief.' }, greeting: 'Hi' });
    await store.close();
    assert.match((await parley('agents', 'list', '--project', 'acme')).stdout, new RegExp(`^${id}\tfront desk\t`, 'm'));
    writeFileSync(file, JSON.stringify({ think: { provider: { type: 'open_ai' }, functions: [{ name: 'has spaces' }] } }));
    const broken = await parley('agents', 'create', '--project', 'acme', '--file', file);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /^parley: config: /);
  });
});
