/**
 * Hostile compressed audio through a real server (docs/protocol-decisions.md#compressed-audio):
 * the session ends with Error USER_AUDIO_FORMAT and close code 1000, and the server goes on
 * serving the next session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket } from '../support/agent-socket.js';
import { startTestServer } from '../support/test-server.js';

function settings(encoding: string): Record<string, unknown> & { type: string } {
  return {
    type: 'Settings',
    audio: { input: { encoding, sample_rate: 16000 }, output: { encoding: 'opus' } },
    agent: { listen: { provider: { type: 'scripted' } }, think: { provider: { type: 'scripted' } }, speak: { provider: { type: 'scripted' } } },
  };
}

describe('compressed audio a client gets wrong', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  for (const [encoding, frames] of [
    ['flac', [Buffer.from('fLaC'), Buffer.from('not a metadata block at all, and far too long to be one')]],
    ['ogg-opus', [Buffer.alloc(300, 0x4f)]],
    ['opus', [Buffer.from([0x08, 0x01, 0x02]), Buffer.alloc(2000, 0xff)]],
  ] as const) {
    it(`${encoding}: the session ends with USER_AUDIO_FORMAT and the server serves the next one`, async () => {
      const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
      socket.send(settings(encoding));
      await socket.waitFor('SettingsApplied');
      for (const frame of frames) socket.sendAudio(frame);
      const error = await socket.waitFor('Error');
      assert.equal(error.code, 'USER_AUDIO_FORMAT');
      assert.equal(await socket.closed(), 1000);
      const next = await AgentSocket.open(`${server.url}/v1/agent/converse`);
      next.send(settings(encoding));
      await next.waitFor('SettingsApplied');
      next.close();
    });
  }

  it('an encoding this server does not have is INVALID_SETTINGS naming what it supports', async () => {
    for (const encoding of ['amr-nb', 'amr-wb', 'speex', 'g729']) {
      const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
      socket.send(settings(encoding));
      const error = await socket.waitFor('Error');
      assert.equal(error.code, 'INVALID_SETTINGS');
      assert.match(String(error.description), /supported: linear16, linear32, mulaw, alaw, flac, opus, ogg-opus/);
    }
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send({ ...settings('linear16'), audio: { output: { encoding: 'aac' } } });
    assert.match(String((await socket.waitFor('Error')).description), /supported: linear16, mulaw, alaw, opus, mp3, flac/);
  });
});
