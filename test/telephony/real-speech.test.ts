/**
 * Acceptance of the phone paths with real parts: a carrier client written from Twilio's and
 * Telnyx's documents (test/support/phone-client.ts) plays a real recorded utterance, converted
 * by sox to 8 kHz G.711, to the embedded local engines (pocketsphinx, rules, flite); the call is
 * recorded, and the recording's alignment is checked against what the line received.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { startParley } from '../../src/server/start-parley.js';
import type { Parley } from '../../src/server/start-parley.js';
import type { AgentTurn } from '../../src/recording/transcript.js';
import { CARD_RULES, cardsClips } from '../support/fixtures.js';
import { PhoneClient, callTranscript, decodeLine, lineSilence, pace, telephoneAudio } from '../support/phone-client.js';
import type { Carrier } from '../support/phone-client.js';
import { firstLoud, readStereoWav } from '../support/recording.js';
import { wordErrors } from '../support/wer.js';

describe('phone calls with real speech and the local engines', () => {
  let parley: Parley;
  let dir: string;
  let recordDir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-phone-speech-'));
    recordDir = join(dir, 'recordings');
    const agentsFile = join(dir, 'agents.json');
    writeFileSync(
      agentsFile,
      JSON.stringify({
        cards: {
          agent: {
            listen: { provider: { type: 'pocketsphinx' } },
            think: { provider: { type: 'rules', rules: CARD_RULES } },
            speak: { provider: { type: 'flite' } },
            greeting: 'Name your cards, please.',
          },
        },
      }),
    );
    parley = await startParley({
      env: { PATH: process.env['PATH'], PARLEY_AGENTS_FILE: agentsFile, PARLEY_RECORD_DIR: recordDir },
      overrides: { port: 0, idleTimeoutMs: 120_000 },
      logger: silentLogger(),
    });
  });
  after(async () => {
    await parley.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const carrier of ['twilio', 'telnyx'] as Carrier[]) {
    it(`${carrier}: the caller is transcribed and answered in paced 160-byte frames with marks, and the recording lines up`, async (t) => {
      // Three cards in 3.5 s; the 1.1 s clip 001 is not heard at all at 8 kHz.
      const clip = cardsClips().find((c) => c.id === '005');
      assert.ok(clip !== undefined);
      const codec = carrier === 'telnyx' ? 'PCMA' : 'PCMU';
      const law = codec === 'PCMA' ? 'a-law' : 'u-law';
      const phone = await PhoneClient.call(`${parley.server.url}/${carrier}`, { carrier, codec, parameters: { agent: 'cards' } });
      await phone.waitForReplies(1, 30_000);
      phone.say(Buffer.concat([telephoneAudio(clip.path, dir, law), lineSilence(1500, law)]));
      await phone.waitForReplies(2, 60_000);
      phone.hangUp();
      await phone.closed();

      const transcript = await callTranscript(recordDir, phone.streamId);
      const user = transcript.turns.find((turn) => turn.role === 'user');
      assert.ok(user?.role === 'user', 'the caller\'s words arrived');
      const errors = wordErrors(clip.transcript, user.text);
      t.diagnostic(`heard "${user.text}" for "${clip.transcript}": ${errors.errors}/${errors.words} word errors`);
      assert.ok(errors.errors / errors.words <= 0.25, `heard "${user.text}" for "${clip.transcript}"`);
      const reply = transcript.turns.at(-1) as AgentTurn;
      assert.equal(reply.role, 'agent');
      assert.notDeepEqual(reply.said, ['Please name your cards.'], 'the reply matched an intent');

      const replies = phone.replies();
      assert.equal(replies.length, 2);
      for (const [index, { frames, next }] of replies.entries()) {
        assert.ok(frames.every((frame) => frame.bytes.length === 160), 'every media message carries 20 ms (160 bytes)');
        assert.equal(next, 'mark', 'a mark follows the last frame of each utterance');
        const slope = pace(frames);
        t.diagnostic(`reply ${index}: ${frames.length * 20} ms paced at ${slope.toFixed(4)} × real time`);
        assert.ok(slope > 0.9 && slope < 1.1, `reply ${index} paced at ${slope.toFixed(3)} × real time`);
      }

      const wav = readStereoWav(join(recordDir, transcript.audio.file));
      assert.deepEqual([wav.channels, wav.sampleRate], [2, 16000]);
      assert.ok(Math.abs(wav.left.length / 16 - (transcript.durationMs ?? 0)) < 50, 'the WAV lasts as long as the call');
      // Where the line got the greeting's first sound, decoded by sox from the media it received.
      const greeting = replies[0]?.frames ?? [];
      const lineAudio = decodeLine(Buffer.concat(greeting.map((f) => f.bytes)), dir, law);
      const lineAt = phone.epoch + (greeting[0]?.at ?? 0) + firstLoud(lineAudio) / 8;
      const recordedAt = transcript.startedAtEpochMs + firstLoud(wav.right) / 16;
      t.diagnostic(`agent's first sound recorded ${(recordedAt - lineAt).toFixed(1)} ms from where the line got it`);
      // The line stamps the greeting's first frame when this process's event loop gets to it, and
      // this process also runs the server and warms its engines: under a loaded test run that
      // stamp was 55–61 ms late (a recording off by a frame lead, 200 ms, still fails).
      assert.ok(Math.abs(recordedAt - lineAt) <= 80, `agent audio recorded ${recordedAt - lineAt} ms off`);
      // The caller's first sound: sent in the frame that left at saidAt, captured in the 20 ms before.
      // The caller's timeline is anchored on the stream's first frame, which arrives while the
      // engines warm up in this same process: the same tolerance.
      const clipAudio = decodeLine(telephoneAudio(clip.path, dir, law), dir, law);
      const saidAt = phone.epoch + (phone.saidAt[0] ?? 0) - 20 + firstLoud(clipAudio) / 8;
      const userAt = transcript.startedAtEpochMs + firstLoud(wav.left) / 16;
      t.diagnostic(`caller's first sound recorded ${(userAt - saidAt).toFixed(1)} ms from when it was sent`);
      assert.ok(Math.abs(userAt - saidAt) <= 80, `caller audio recorded ${userAt - saidAt} ms off`);
    });
  }
});
