// Several real Parley processes sharing one real PostgreSQL: the project limit holds across them,
// a crashed process's slots free themselves after one lease, and deploy/nginx/parley.conf in a real
// nginx spreads sessions over two processes and keeps serving when one is killed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hashSecret, newKeySecret, openPostgresStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import type { AgentSocket } from '../support/agent-socket.js';
import { eventually, httpJson, scriptedSettings, tryOpen } from '../support/platform.js';
import { freePort, startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LEASE_MS = 2000;

interface ParleyProcess {
  child: ChildProcess;
  port: number;
  http: string;
  agentUrl: string;
  exited: Promise<void>;
}

async function startProcess(databaseUrl: string): Promise<ParleyProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/platform-process.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', PARLEY_DATABASE_URL: databaseUrl, PARLEY_SLOT_LEASE_MS: String(LEASE_MS), PARLEY_IDLE_TIMEOUT_MS: '60000', PARLEY_DRAIN_TIMEOUT_MS: '1000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line.startsWith('listening ')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`a Parley process exited with ${code} before listening`)));
  });
  return { child, port, exited, http: `http://127.0.0.1:${port}`, agentUrl: `ws://127.0.0.1:${port}/v1/agent/converse` };
}

async function sessionsOf(parley: ParleyProcess): Promise<number> {
  return Number((await httpJson('GET', `${parley.http}/healthz`)).body['sessions']);
}

async function open(url: string, key: string): Promise<AgentSocket> {
  const opened = await tryOpen(url, { credential: key });
  if (!('socket' in opened)) throw new Error(`refused with ${opened.status}: ${opened.body}`);
  opened.socket.send(scriptedSettings());
  await opened.socket.waitFor('SettingsApplied');
  return opened.socket;
}

async function refusedStatus(url: string, key: string): Promise<number> {
  const opened = await tryOpen(url, { credential: key });
  if ('socket' in opened) {
    opened.socket.close();
    return 101;
  }
  return opened.status;
}

/** A key of a new project with this limit, made directly in the shared store. */
async function projectKey(store: Store, name: string, limit?: number): Promise<{ projectId: string; key: string }> {
  const project = await store.createProject({ name, ...(limit === undefined ? {} : { concurrencyLimit: limit }) });
  const key = newKeySecret();
  await store.createKey({ projectId: project.id, secretHash: hashSecret(key) });
  return { projectId: project.id, key };
}

/** deploy/nginx/parley.conf with the test's addresses, in a real nginx of its own. */
async function startNginx(upstreams: readonly number[]): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-nginx-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  let site = readFileSync(join(ROOT, 'deploy/nginx/parley.conf'), 'utf8');
  const servers = /(\n\s*server 127\.0\.0\.1:\d+[^\n]*)+/.exec(site);
  assert.ok(servers !== null, 'the example names its upstream servers');
  const options = /server 127\.0\.0\.1:\d+([^;\n]*);/.exec(servers[0])?.[1] ?? '';
  site = site.replace(servers[0], upstreams.map((p) => `\n    server 127.0.0.1:${p}${options};`).join(''));
  site = site.replace(/listen 80;/, `listen 127.0.0.1:${port};`);
  writeFileSync(join(dir, 'parley.conf'), site);
  const temp = (name: string): string => `${name}_temp_path ${join(dir, name)};`;
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'worker_processes 1;',
      'events { worker_connections 512; }',
      `http { access_log off; ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join(' ')} include ${join(dir, 'parley.conf')}; }`,
    ].join('\n'),
  );
  const child = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await eventually(
    async () => {
      try {
        return (await httpJson('GET', `http://127.0.0.1:${port}/healthz`)).status === 200;
      } catch {
        return false;
      }
    },
    10_000,
    'nginx to answer',
  );
  return {
    url: `ws://127.0.0.1:${port}/v1/agent/converse`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('many Parley processes sharing PostgreSQL', () => {
  let postgres: TestPostgres;
  let store: Store;
  let a: ParleyProcess;
  let b: ParleyProcess;
  const sockets: AgentSocket[] = [];
  /** The project of the first test, whose three sessions have all ended before the kill. */
  let twoProject = '';

  before(async () => {
    postgres = await startPostgres();
    const url = await postgres.createDatabase('parley');
    [a, b] = await Promise.all([startProcess(url), startProcess(url)]);
    store = await openPostgresStore(url);
  });

  after(async () => {
    for (const socket of sockets) socket.close();
    for (const parley of [a, b]) {
      if (parley.child.exitCode === null && parley.child.signalCode === null) parley.child.kill('SIGTERM');
      await parley.exited;
    }
    await store.close();
    await postgres.stop();
  });

  it('a project limited to 2: the third session is refused with 429 whichever process it reaches', async () => {
    const { projectId, key } = await projectKey(store, 'two', 2);
    twoProject = projectId;
    const first = await open(a.agentUrl, key);
    const second = await open(b.agentUrl, key);
    assert.equal(await refusedStatus(a.agentUrl, key), 429);
    assert.equal(await refusedStatus(b.agentUrl, key), 429);
    first.close();
    await eventually(async () => (await store.openSlots(projectId)) === 1, 5000, 'the closed session to give its slot back');
    const third = await open(b.agentUrl, key);
    assert.equal(await refusedStatus(a.agentUrl, key), 429);
    second.close();
    third.close();
  });

  it('race: upgrades of a project limited to 2 reach both processes at once; exactly 2 are admitted', async () => {
    const { key } = await projectKey(store, 'race', 2);
    const attempts = await Promise.all(Array.from({ length: 8 }, (_, i) => tryOpen((i % 2 === 0 ? a : b).agentUrl, { credential: key })));
    const admitted = attempts.flatMap((attempt) => ('socket' in attempt ? [attempt.socket] : []));
    assert.equal(admitted.length, 2);
    assert.deepEqual(attempts.flatMap((attempt) => ('socket' in attempt ? [] : [attempt.status])), [429, 429, 429, 429, 429, 429]);
    for (const socket of admitted) socket.close();
  });

  it('a token granted by one process is accepted by the other (one signing secret in the store)', async () => {
    const { key } = await projectKey(store, 'tokens');
    const token = String((await httpJson('POST', `${a.http}/v1/auth/grant`, { credential: key })).body['access_token']);
    const opened = await tryOpen(b.agentUrl, { credential: token, bearerProtocol: true });
    assert.ok('socket' in opened, 'accepted by the other process');
    opened.socket.close();
  });

  it('nginx in front of both: sessions spread; one process killed, its sockets close, new sessions reach the survivor, the limit holds', async () => {
    const nginx = await startNginx([a.port, b.port]);
    try {
      const open4 = await projectKey(store, 'spread');
      const limited = await projectKey(store, 'limited', 2);
      for (let i = 0; i < 4; i++) sockets.push(await open(nginx.url, open4.key));
      const spread = [await sessionsOf(a), await sessionsOf(b)];
      assert.deepEqual(spread, [2, 2], `sessions per process: ${spread.join(', ')}`);
      const limitedSockets = [await open(nginx.url, limited.key), await open(nginx.url, limited.key)];
      assert.equal(await refusedStatus(nginx.url, limited.key), 429, 'the limit through nginx');
      const all = [...sockets, ...limitedSockets];
      const onA = await sessionsOf(a);

      a.child.kill('SIGKILL');
      await a.exited;
      await eventually(() => Promise.resolve(all.filter((s) => s.closeCode !== undefined).length === onA), 10_000, "the killed process's sockets to close");
      // A crash loses only the sessions in flight: every session that ended before has its record.
      assert.equal((await store.usage({ projectId: twoProject })).sessions, 3);
      const survivors = all.filter((s) => s.closeCode === undefined);
      assert.equal(survivors.length, all.length - onA);
      for (const socket of survivors) {
        socket.send({ type: 'InjectUserMessage', content: 'still here' });
        await socket.waitFor('ConversationText', (e) => e.content === 'You said: still here.');
      }

      const before = await sessionsOf(b);
      for (let i = 0; i < 3; i++) sockets.push(await open(nginx.url, open4.key));
      assert.equal(await sessionsOf(b), before + 3, 'new sessions reach the survivor');

      // The killed process's slots run out after one lease; then the limit counts only live sessions.
      const stillOpen = limitedSockets.filter((s) => s.closeCode === undefined).length;
      await new Promise((r) => setTimeout(r, LEASE_MS + 200));
      for (let i = stillOpen; i < 2; i++) sockets.push(await open(nginx.url, limited.key));
      assert.equal(await refusedStatus(nginx.url, limited.key), 429, 'the limit still holds');
      assert.equal(await store.openSlots(limited.projectId), 2);
    } finally {
      await nginx.stop();
    }
  });
});
