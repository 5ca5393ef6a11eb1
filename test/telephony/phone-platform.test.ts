// Phone calls and the store: a call's agent comes from its project's
// stored agents before the agents file, a call holds one of its project's concurrency slots from
// its start message until it ends, and it writes a usage record. Real sockets through the real
// server, on SQLite and on a real PostgreSQL server; scripted providers (orchestration tests).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { pino } from 'pino';
import type { RunningServer } from '../../src/server/index.js';
import { hashSecret, newKeySecret, openPostgresStore, openSqliteStore } from '../../src/store/index.js';
import { MAX_DTMF_PER_SECOND } from '../../src/telephony/phone-call.js';
import type { Store } from '../../src/store/index.js';
import { scriptedSettings, SCRIPTED_AGENT, eventually, httpJson, openLateSlotStore, startStoreServer, tryOpen } from '../support/platform.js';
import { PhoneClient, callTranscript, lineSilence, toneAudio } from '../support/phone-client.js';
import type { Carrier } from '../support/phone-client.js';
import { startPostgres } from '../support/postgres.js';
import { startTestServer } from '../support/test-server.js';
import type { TestPostgres } from '../support/postgres.js';
import { thinkRequests } from '../support/scripted-providers.js';

const ADMIN = 'admin-key-for-phone-tests-0123456789';

const agentBlock = (greeting: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...SCRIPTED_AGENT, greeting, ...extra });

/** One usage row as the store wrote it, read with the database's own client. */
interface UsageRow {
  session_id: string;
  project_id: string | null;
  key_id: string | null;
  connection_ms: number;
  audio_in_ms: number;
  audio_out_ms: number;
  turns: number;
}

interface Backend {
  name: string;
  open(): Promise<{ store: Store; usageRows(projectId: string): Promise<UsageRow[]>; close(): Promise<void> }>;
}

const sqlite: Backend = {
  name: 'SQLite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'parley-phone-store-'));
    const path = join(dir, 'parley.db');
    const store = await openSqliteStore(path);
    return {
      store,
      usageRows: (projectId) => {
        const db = new Database(path, { readonly: true });
        try {
          return Promise.resolve(db.prepare('SELECT * FROM usage_records WHERE project_id = ?').all(projectId) as UsageRow[]);
        } finally {
          db.close();
        }
      },
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

let postgres: TestPostgres | undefined;
const postgresql: Backend = {
  name: 'PostgreSQL',
  async open() {
    postgres = await startPostgres();
    const url = await postgres.createDatabase('parley_phone');
    const store = await openPostgresStore(url);
    return {
      store,
      async usageRows(projectId) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          const { rows } = await client.query('SELECT * FROM usage_records WHERE project_id = $1', [projectId]);
          return (rows as Record<string, unknown>[]).map((row) => ({ ...row, connection_ms: Number(row['connection_ms']), audio_in_ms: Number(row['audio_in_ms']), audio_out_ms: Number(row['audio_out_ms']) }) as UsageRow);
        } finally {
          await client.end();
        }
      },
      async close() {
        await store.close();
        await postgres?.stop();
      },
    };
  },
};

/** Log lines, parsed, from a real pino logger at debug level. */
function capturingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

async function closedWith(phone: PhoneClient): Promise<{ code: number | undefined; reason: string }> {
  await phone.closed();
  return { code: phone.closeCode, reason: phone.closeReason };
}

for (const backend of [sqlite, postgresql]) {
  describe(`phone calls with the store (${backend.name})`, () => {
    let opened: Awaited<ReturnType<Backend['open']>>;
    let store: Store;
    let server: RunningServer;
    let dir: string;
    let recordDir: string;
    let log: ReturnType<typeof capturingLogger>;
    let n = 0;

    before(async () => {
      opened = await backend.open();
      store = opened.store;
      dir = mkdtempSync(join(tmpdir(), 'parley-phone-platform-'));
      recordDir = join(dir, 'recordings');
      const agentsFile = join(dir, 'agents.json');
      writeFileSync(
        agentsFile,
        JSON.stringify({
          default: { agent: agentBlock('File default.') },
          support: { agent: agentBlock('File support.') },
          shared: { agent: agentBlock('File shared.') },
        }),
      );
      log = capturingLogger();
      server = await startStoreServer(store, { adminKey: ADMIN, agentsFile, recordDir }, log.logger);
    });

    after(async () => {
      await server.close();
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function projectKey(name: string, limit?: number): Promise<{ projectId: string; key: string; keyId: string }> {
      const project = await store.createProject({ name, ...(limit === undefined ? {} : { concurrencyLimit: limit }) });
      const key = newKeySecret();
      const created = await store.createKey({ projectId: project.id, secretHash: hashSecret(key) });
      return { projectId: project.id, key, keyId: created.id };
    }

    /** A call offering its key as the start message's `token` parameter (carriers' usual way). */
    function call(carrier: Carrier, key: string, parameters: Record<string, string> = {}): Promise<PhoneClient> {
      n++;
      return PhoneClient.call(`${server.url}/${carrier}?record=true&n=${n}`, { carrier, parameters: { token: key, ...parameters } });
    }

    /** The greeting the agent that answered said, from the call's recording. */
    async function greetingOf(carrier: Carrier, key: string, parameters: Record<string, string> = {}): Promise<string> {
      const phone = await call(carrier, key, parameters);
      const outcome = await Promise.race([phone.waitForReplies(1, 10_000).then(() => undefined), closedWith(phone)]);
      if (outcome !== undefined) return `closed ${outcome.code}: ${outcome.reason}`;
      phone.hangUp();
      await phone.closed();
      const transcript = await callTranscript(recordDir, phone.streamId);
      const first = transcript.turns.find((turn) => turn.role === 'agent');
      return first?.role === 'agent' ? first.said.join(' ') : '(no agent turn)';
    }

    it("a call names a stored agent of its project by id or name, which wins over the agents file's; the file serves the rest; another project's is not found", async () => {
      const own = await projectKey('phone-agents');
      const other = await projectKey('phone-agents-other');
      const support = await store.createAgent({ projectId: own.projectId, config: agentBlock('Stored support.'), metadata: { name: 'support' } });
      const foreign = await store.createAgent({ projectId: other.projectId, config: agentBlock('Other project.'), metadata: { name: 'elsewhere' } });
      assert.equal(await greetingOf('twilio', own.key, { agent: 'support' }), 'Stored support.', 'by name, before the file\'s "support"');
      assert.equal(await greetingOf('telnyx', own.key, { agent: support.id }), 'Stored support.', 'by id');
      assert.equal(await greetingOf('twilio', own.key, { agent: 'shared' }), 'File shared.', 'a name the project has not stored');
      assert.equal(await greetingOf('twilio', own.key), 'File default.', 'no name, no stored default');
      assert.equal(await greetingOf('twilio', other.key, { agent: 'support' }), 'File support.', "another project does not see this one's agents");
      await store.createAgent({ projectId: own.projectId, config: agentBlock('Stored default.'), metadata: { name: 'default' } });
      assert.equal(await greetingOf('telnyx', own.key), 'Stored default.', 'no name: the stored agent named default');
      for (const agent of [foreign.id, 'elsewhere']) {
        assert.match(await greetingOf('twilio', own.key, { agent }), new RegExp(`^closed 1008: INVALID_SETTINGS: No agent named "${agent}" in this project or the agents file`));
        // The close reason holds 123 bytes; the log has the whole description.
        assert.ok(log.lines.some((line) => String(line['msg']).includes(`No agent named "${agent}" in this project or the agents file; it has "default", "support", "shared"`)));
      }
      const clientSide = await store.createAgent({ projectId: own.projectId, config: agentBlock('Never.', { think: { provider: { type: 'scripted' }, functions: [{ name: 'on_the_client' }] } }), metadata: { name: 'client-side' } });
      assert.match(await greetingOf('twilio', own.key, { agent: 'client-side' }), new RegExp(`^closed 1008: INVALID_SETTINGS: Stored agent ${clientSide.id}: function "on_the_client" has no endpoint`));
    });

    it('a project limited to 1: while a call is open a second call is closed with 4429 naming the limit (and logged), and an agent session gets 429; after it hangs up, a call is admitted', async () => {
      const { projectId, key } = await projectKey('phone-limited', 1);
      const first = await call('twilio', key);
      await first.waitForReplies(1, 10_000);
      const second = await call('telnyx', key);
      const refused = await closedWith(second);
      assert.equal(refused.code, 4429);
      assert.match(refused.reason, new RegExp(`^Too Many Requests: Project ${projectId} already has 1 concurrent agent sessions, its limit`));
      assert.equal(second.received.length, 0, 'nothing was sent to the refused stream');
      assert.ok(
        log.lines.some((line) => line['level'] === 30 && String(line['msg']).startsWith('phone call refused: Too Many Requests') && line['status'] === 429),
        'the refusal is logged at info',
      );
      const session = await tryOpen(`${server.url}/v1/agent/converse`, { credential: key });
      assert.ok(!('socket' in session) && session.status === 429, 'the call holds the slot an agent session would need');
      first.hangUp();
      await first.closed();
      await eventually(async () => (await store.openSlots(projectId)) === 0, 5000, 'the call to give its slot back');
      const next = await call('twilio', key);
      await next.waitForReplies(1, 10_000);
      next.hangUp();
      await next.closed();
      const metrics = await server.metrics.registry.metrics();
      assert.match(metrics, /parley_upgrades_refused_total\{status="429"\} [1-9]/);
    });

    it('an agent session holding the only slot refuses a call; a call whose socket drops without a stop gives its slot back', async () => {
      const { projectId, key } = await projectKey('phone-shared-limit', 1);
      const opening = await tryOpen(`${server.url}/v1/agent/converse`, { credential: key });
      if (!('socket' in opening)) throw new Error(`refused: ${opening.status}`);
      opening.socket.send(scriptedSettings());
      await opening.socket.waitFor('SettingsApplied');
      assert.equal((await closedWith(await call('twilio', key))).code, 4429);
      opening.socket.close();
      await opening.socket.closed();
      await eventually(async () => (await store.openSlots(projectId)) === 0, 5000, 'the session to give its slot back');
      const dropped = await call('telnyx', key);
      await dropped.waitForReplies(1, 10_000);
      assert.equal(await store.openSlots(projectId), 1);
      dropped.ws.terminate();
      await eventually(async () => (await store.openSlots(projectId)) === 0, 5000, 'the dropped call to give its slot back');
      const next = await call('twilio', key);
      await next.waitForReplies(1, 10_000);
      next.hangUp();
      await next.closed();
    });

    it("a call's usage record: connection seconds within 1 s, audio in and out, turns, its project and key", async (t) => {
      const { projectId, key, keyId } = await projectKey('phone-usage');
      const startedAt = Date.now();
      const phone = await call('twilio', key, { agent: 'support' });
      await phone.waitForReplies(1, 10_000);
      phone.say(Buffer.concat([toneAudio(600, dir), lineSilence(900)]));
      await phone.waitForReplies(2, 15_000);
      phone.hangUp();
      await phone.closed();
      const measuredMs = Date.now() - startedAt;
      await eventually(async () => (await opened.usageRows(projectId)).length === 1, 5000, 'the usage record');
      const [row] = await opened.usageRows(projectId);
      assert.ok(row !== undefined);
      t.diagnostic(`connection ${row.connection_ms} ms (measured ${measuredMs}); audio in ${row.audio_in_ms} ms (line sent ${phone.mediaSent * 20}); out ${row.audio_out_ms} ms (line got ${phone.receivedBytes() / 8}); turns ${row.turns}`);
      assert.equal(row.key_id, keyId, 'attributed to the key (its id, never the key)');
      assert.ok(Math.abs(row.connection_ms - measuredMs) < 1000, `connection ${row.connection_ms} ms, measured ${measuredMs} ms`);
      // The caller's line sends 20 ms frames from the start message on; all of them were heard.
      assert.ok(Math.abs(row.audio_in_ms - phone.mediaSent * 20) <= 100, `audio in ${row.audio_in_ms} ms, the line sent ${phone.mediaSent * 20} ms`);
      assert.ok(Math.abs(row.audio_out_ms - phone.receivedBytes() / 8) <= 100, `audio out ${row.audio_out_ms} ms, the line got ${phone.receivedBytes() / 8} ms`);
      assert.equal(row.turns, 2, 'the greeting and the reply');
      const totals = await httpJson('GET', `${server.url.replace('ws://', 'http://')}/v1/projects/${projectId}/usage`, { credential: ADMIN });
      assert.equal(totals.body['sessions'], 1);
    });
  });
}

describe('phone calls with a slow store', () => {
  it('race: a call that hangs up while its start waits on the store gives its slot back', async () => {
    const { dir, store, late, projectId, key, slotTaken, close } = await openLateSlotStore(300);
    const agentsFile = join(dir, 'agents.json');
    writeFileSync(agentsFile, JSON.stringify({ default: { agent: agentBlock('Hello.') } }));
    const server = await startStoreServer(late, { agentsFile });
    try {
      const phone = await PhoneClient.call(`${server.url}/twilio`, { carrier: 'twilio', parameters: { token: key } });
      phone.ws.terminate();
      await slotTaken;
      await eventually(async () => (await store.openSlots(projectId)) === 0, 5000, 'the hung-up call to give its slot back');
      const next = await PhoneClient.call(`${server.url}/twilio`, { carrier: 'twilio', parameters: { token: key } });
      await next.waitForReplies(1, 10_000);
      next.hangUp();
      await next.closed();
    } finally {
      await server.close();
      await close();
    }
  });
});

describe('keypad entries: what is logged, and agent.dtmf turning an entry into a function call', () => {
  let dir: string;
  let store: Store;
  let server: RunningServer;
  let recordDir: string;
  let log: ReturnType<typeof capturingLogger>;
  let endpoint: { url: string; bodies: string[]; close(): Promise<void> };
  const checkPin = (url: string): Record<string, unknown> => ({
    name: 'check_pin',
    description: 'Checks the PIN the caller entered on the keypad',
    parameters: { type: 'object', properties: { digits: { type: 'string' } }, required: ['digits'] },
    endpoint: { url, method: 'post' },
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-phone-dtmf-'));
    recordDir = join(dir, 'recordings');
    const bodies: string[] = [];
    const http = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"verified":true}');
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    endpoint = {
      url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/check`,
      bodies,
      close: () => new Promise((resolve) => http.close(() => resolve())),
    };
    const agentsFile = join(dir, 'agents.json');
    writeFileSync(
      agentsFile,
      JSON.stringify({
        plain: { agent: agentBlock('Enter your PIN.') },
        pin: { agent: agentBlock('Enter your PIN.', { think: { provider: { type: 'scripted' }, functions: [checkPin(endpoint.url)] }, dtmf: { function: 'check_pin' } }) },
      }),
    );
    store = await openSqliteStore(join(dir, 'parley.db'));
    log = capturingLogger();
    server = await startStoreServer(store, { adminKey: ADMIN, agentsFile, recordDir }, log.logger);
  });

  after(async () => {
    await server.close();
    await store.close();
    await endpoint.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Presses `digits` once the greeting has played, and hangs up after the reply; the call's log lines and transcript. */
  async function enter(parameters: Record<string, string>, digits: string): Promise<{ lines: Record<string, unknown>[]; transcript: Awaited<ReturnType<typeof callTranscript>> }> {
    const phone = await PhoneClient.call(`${server.url}/twilio?record=true`, { carrier: 'twilio', parameters });
    await phone.waitForReplies(1, 10_000);
    for (const digit of digits) phone.dtmf(digit);
    await phone.waitForReplies(2, 10_000);
    phone.hangUp();
    await phone.closed();
    const transcript = await callTranscript(recordDir, phone.streamId);
    return { lines: log.lines.filter((line) => line['session'] === transcript.session), transcript };
  }

  it('a PIN reaches the log only as a count at info; the digits are at debug only, and in the recording', async () => {
    const { lines, transcript } = await enter({ agent: 'plain' }, '4711#');
    const atInfo = lines.filter((line) => Number(line['level']) >= 30);
    assert.ok(atInfo.some((line) => line['msg'] === 'caller entered keys' && line['keys'] === 5), 'the count is logged at info');
    // Every field but the ones that hold numbers of their own (times, ids) may hold no digits of the entry.
    const said = atInfo.map(({ time: _time, pid: _pid, hostname: _hostname, session: _session, level: _level, ...rest }) => JSON.stringify(rest));
    assert.equal(said.filter((text) => text.includes('4711')).length, 0, 'no digits at info or above');
    assert.equal(atInfo.filter((line) => 'dtmf' in line).length, 0);
    const atDebug = lines.filter((line) => line['level'] === 20 && 'dtmf' in line).map((line) => line['dtmf']);
    assert.deepEqual(atDebug, ['4', '7', '1', '1', '#'], 'each key at debug');
    assert.deepEqual(
      transcript.notes.filter((note) => note.type === 'dtmf').map((note) => note.digit),
      ['4', '7', '1', '1', '#'],
    );
    assert.ok(transcript.turns.some((turn) => turn.role === 'user' && turn.text === 'The caller pressed 4711#'));
  });

  it('keys faster than a phone line carries them close the stream with TOO_MANY_MESSAGES', async () => {
    const phone = await PhoneClient.call(`${server.url}/twilio`, { carrier: 'twilio', parameters: { agent: 'plain' } });
    await phone.waitForReplies(1, 10_000);
    for (let i = 0; i <= MAX_DTMF_PER_SECOND; i++) phone.dtmf('1');
    const closed = await closedWith(phone);
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, new RegExp(`^TOO_MANY_MESSAGES: More than ${MAX_DTMF_PER_SECOND} keypad keys in one second`));
  });

  it("with agent.dtmf, an entry calls the function with its digits instead of a user message, and the LLM replies to the result", async () => {
    const before = thinkRequests.length;
    const { transcript } = await enter({ agent: 'pin' }, '1234#');
    assert.deepEqual(endpoint.bodies, ['{"digits":"1234#"}'], 'the endpoint got the digits');
    const asked = thinkRequests.slice(before).at(-1);
    assert.ok(asked !== undefined, 'the LLM was asked');
    assert.equal(asked.messages.filter((m) => m.role === 'user').length, 0, 'no user message');
    assert.equal(asked.messages.at(-1)?.role, 'tool');
    assert.equal(asked.messages.at(-1)?.content, '{"verified":true}');
    const turn = transcript.turns.find((t) => t.role === 'agent' && t.functionCalls.length > 0);
    assert.ok(turn?.role === 'agent');
    assert.deepEqual(
      turn.functionCalls.map((c) => [c.name, c.arguments, c.response, c.clientSide]),
      [['check_pin', '{"digits":"1234#"}', '{"verified":true}', false]],
    );
    assert.deepEqual(turn.said, ['The result is {"verified":true}.']);
  });

  it('a stored agent with agent.dtmf works the same; a dtmf naming no function of the agent is refused when stored (400) and in the agents file (the server does not start)', async () => {
    const project = await store.createProject({ name: 'dtmf' });
    const key = newKeySecret();
    await store.createKey({ projectId: project.id, secretHash: hashSecret(key) });
    const admin = (body: unknown): ReturnType<typeof httpJson> => httpJson('POST', `${server.url.replace('ws://', 'http://')}/v1/projects/${project.id}/agents`, { credential: ADMIN, body });
    const config = agentBlock('Stored PIN line.', { think: { provider: { type: 'scripted' }, functions: [checkPin(endpoint.url)] }, dtmf: { function: 'check_pin' } });
    const stored = await admin({ config, metadata: { name: 'stored-pin' } });
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    const bodies = endpoint.bodies.length;
    await enter({ token: key, agent: 'stored-pin' }, '99#');
    assert.deepEqual(endpoint.bodies.slice(bodies), ['{"digits":"99#"}']);

    const refused = await admin({ config: { ...config, dtmf: { function: 'nope' } } });
    assert.equal(refused.status, 400);
    assert.match(String(refused.body['err_msg']), /dtmf\.function "nope" is not one of the agent's functions/);
    assert.equal((await admin({ config: { ...config, dtmf: { fucntion: 'check_pin' } } })).status, 400, 'a misspelt key is refused, not ignored');
    const badFile = join(dir, 'bad-agents.json');
    writeFileSync(badFile, JSON.stringify({ pin: { agent: { ...config, dtmf: { function: 'nope' } } } }));
    await assert.rejects(startStoreServer(store, { agentsFile: badFile }), /agent "pin": dtmf\.function "nope" is not one of the agent's functions/);
  });
});

describe('a stream that never sends its start message', () => {
  it('is closed after the idle time even while it streams media: it holds no slot and may have shown no key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-phone-nostart-'));
    const agentsFile = join(dir, 'agents.json');
    writeFileSync(agentsFile, JSON.stringify({ default: { agent: agentBlock('Hello.') } }));
    const server = await startTestServer({ agentsFile, idleTimeoutMs: 1000, apiKeys: ['secret-key'] });
    try {
      const phone = await PhoneClient.open(`${server.url}/twilio`, { carrier: 'twilio' });
      const payload = lineSilence(20).toString('base64');
      const media = setInterval(() => phone.send({ event: 'media', streamSid: 'MZ0', media: { track: 'inbound', payload } }), 20);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error('the stream was still open after 5 s')), 5000)));
      const closed = await Promise.race([closedWith(phone), late]).finally(() => {
        clearInterval(media);
        clearTimeout(timer);
      });
      assert.equal(closed.code, 1008);
      assert.match(closed.reason, /^CLIENT_MESSAGE_TIMEOUT: No start message within 1000 ms of the stream opening/);
      assert.equal(server.sessionCount(), 0);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
