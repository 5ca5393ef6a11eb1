/**
 * `InterimTranscript`, Parley's own event (docs/protocol-decisions.md#interim-transcripts): the
 * real server with its local listener sends the words heard so far while the user speaks, but
 * only to a client that asked with `?interim_transcripts=true`; every other client (the official
 * SDKs among them) never receives a message type it does not know.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import { synthesizeWithFlite } from '../../src/speak/flite/flite-synth.js';
import { AgentSocket, silence, streamAudio } from '../support/agent-socket.js';

const SETTINGS = {
  type: 'Settings',
  audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000, container: 'none' } },
  agent: { listen: { provider: { type: 'local' } }, think: { provider: { type: 'local' } }, speak: { provider: { type: 'local' } } },
};

/** A long question, so the listener has several interim readings of it before the turn ends. */
function question(): Buffer {
  const speech = synthesizeWithFlite('what is the weather going to be like in paris tomorrow morning', 'rms');
  assert.equal(speech.sampleRate, 16000);
  return Buffer.from(speech.samples.buffer, speech.samples.byteOffset, speech.samples.byteLength);
}

/** The event types a session received from Settings to the user's final transcript. */
async function spokenTurn(url: string): Promise<{ types: string[]; interims: string[]; final: string }> {
  const socket = await AgentSocket.open(url);
  try {
    socket.send(SETTINGS);
    await socket.waitFor('SettingsApplied');
    await streamAudio(socket, Buffer.concat([silence(500), question(), silence(1500)]), { speed: 1 });
    const final = await socket.waitFor('ConversationText', (e) => e.role === 'user');
    const types = socket.received.flatMap((r) => (r.kind === 'event' ? [r.event.type] : []));
    const interims = socket.events('InterimTranscript').map((e) => {
      assert.equal(e['role'], 'user');
      return String(e['content']);
    });
    return { types, interims, final: String(final.content) };
  } finally {
    socket.close();
  }
}

describe('interim transcripts on request', () => {
  let parley: Parley;
  before(async () => {
    parley = await startParley({ env: { PATH: process.env['PATH'] }, overrides: { port: 0, host: '127.0.0.1', apiKeys: [] }, logger: silentLogger() });
  });
  after(() => parley.close());

  it('a client that asked gets the words so far between UserStartedSpeaking and the final transcript', async () => {
    const turn = await spokenTurn(`${parley.server.url}/v1/agent/converse?interim_transcripts=true`);
    assert.ok(turn.interims.length >= 2, `several interim readings: ${JSON.stringify(turn.interims)}`);
    assert.ok(turn.interims.every((text) => text.trim() !== ''), 'no empty interim');
    const started = turn.types.indexOf('UserStartedSpeaking');
    const first = turn.types.indexOf('InterimTranscript');
    const last = turn.types.lastIndexOf('InterimTranscript');
    const final = turn.types.findIndex((type, i) => type === 'ConversationText' && i > started);
    assert.ok(started >= 0 && started < first && last < final, turn.types.join(','));
    // The first reading is the start of the utterance: its first word is the final transcript's.
    assert.equal(turn.interims[0]?.split(' ')[0], turn.final.split(' ')[0], `${JSON.stringify(turn.interims)} → ${turn.final}`);
  });

  it('a client that did not ask never receives one', async () => {
    const turn = await spokenTurn(`${parley.server.url}/v1/agent/converse`);
    assert.ok(turn.final.split(' ').length >= 3, turn.final);
    assert.ok(!turn.types.includes('InterimTranscript'), turn.types.join(','));
  });
});
