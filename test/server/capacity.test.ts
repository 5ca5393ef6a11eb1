/**
 * Capacity with the embedded engines: every session the server admits (PARLEY_MAX_SESSIONS) gets
 * its listener; past the limit, sessions are refused at the upgrade with HTTP 503, never with
 * FAILED_TO_START_LISTENING from a full engine pool.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import { AgentSocket } from '../support/agent-socket.js';

const SESSIONS = 120;
const SETTINGS = {
  type: 'Settings',
  audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
  agent: { listen: { provider: { type: 'pocketsphinx' } }, think: { provider: { type: 'rules' } }, speak: { provider: { type: 'flite' } } },
};

type Outcome = { served: AgentSocket } | { refused: string };

async function attempt(url: string): Promise<Outcome> {
  let socket: AgentSocket;
  try {
    socket = await AgentSocket.open(`${url}/v1/agent/converse`);
  } catch (err) {
    return { refused: (err as Error).message };
  }
  socket.send(SETTINGS);
  const first = await settled(socket);
  if (first.type !== 'SettingsApplied') return { refused: `${String(first['code'])}: ${String(first['description'])}` };
  return { served: socket };
}

/**
 * SettingsApplied or Error, whichever comes first. One listener and one timer, both cleared: a
 * race of two waitFor calls left the loser's 90 s timer holding the test process open long after
 * the test had passed (it took 92 s, of which 3.6 s were the test).
 */
function settled(socket: AgentSocket, timeoutMs = 30_000): Promise<ReturnType<AgentSocket["events"]>[number]> {
  const find = () => socket.events().find((event) => event.type === 'SettingsApplied' || event.type === 'Error');
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.ws.off('message', check);
    };
    const check = (): void => {
      const event = find();
      if (event === undefined) return;
      done();
      resolve(event);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no SettingsApplied or Error within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.ws.on('message', check);
    check();
  });
}

describe(`${SESSIONS} sessions at once against the embedded engines`, () => {
  const maxSessions = loadServerConfig({}).maxSessions;
  let parley: Parley;
  before(async () => {
    parley = await startParley({ env: { PATH: process.env['PATH'] }, overrides: { port: 0, idleTimeoutMs: 120_000 }, logger: silentLogger() });
  });
  after(() => parley.close());

  it('up to PARLEY_MAX_SESSIONS each get Welcome, SettingsApplied and a listener; the rest get HTTP 503', async () => {
    const outcomes = await Promise.all(Array.from({ length: SESSIONS }, () => attempt(parley.server.url)));
    const served = outcomes.flatMap((o) => ('served' in o ? [o.served] : []));
    const refusals = outcomes.flatMap((o) => ('refused' in o ? [o.refused] : []));
    assert.deepEqual([...new Set(refusals)], refusals.length === 0 ? [] : ['HTTP 503'], 'a refusal is only ever the upgrade\'s 503');
    assert.equal(served.length, Math.min(SESSIONS, maxSessions));
    for (const socket of served) assert.equal(socket.events('Welcome').length, 1);
    assert.equal(parley.server.sessionCount(), served.length);
    for (const socket of served) socket.close();
    await Promise.all(served.map((socket) => socket.closed()));
  });
});
