/**
 * Phone calls through /twilio and /telnyx, orchestration with the scripted providers: a carrier
 * client written from the carriers' documents streams a caller and plays the agent like a phone
 * line (test/support/phone-client.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import type { Transcript } from '../../src/recording/transcript.js';
import { PhoneClient, callTranscript, lineSilence, pace, toneAudio } from '../support/phone-client.js';
import type { Carrier } from '../support/phone-client.js';
import { startTestServer } from '../support/test-server.js';
import { thinkRequests } from '../support/scripted-providers.js';

const STORY =
  'Once upon a time there was a voice agent on the phone. It spoke in long sentences so that callers could interrupt it. Every sentence took a while to say out loud. The callers listened for a while and then they spoke.';
/** The scripted voice speaks 40 ms per character. */
const MS_PER_CHAR = 40;

const scripted = (greeting: string, listen: Record<string, unknown> = {}): Record<string, unknown> => ({
  agent: {
    listen: { provider: { type: 'scripted', ...listen } },
    think: { provider: { type: 'scripted' } },
    speak: { provider: { type: 'scripted' } },
    greeting,
  },
});

for (const carrier of ['twilio', 'telnyx'] as Carrier[]) {
  describe(`${carrier} media stream with scripted providers`, () => {
    let server: RunningServer;
    let dir: string;
    let recordDir: string;
    let n = 0;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'parley-phone-'));
      const agentsFile = join(dir, 'agents.json');
      writeFileSync(
        agentsFile,
        JSON.stringify({
          default: scripted(STORY, { interim_after_ms: 100 }),
          short: scripted('Hello there, caller.', { transcripts: ['tell me a story'] }),
        }),
      );
      recordDir = join(dir, 'recordings');
      server = await startTestServer({ agentsFile, recordDir, idleTimeoutMs: 60_000 });
    });
    after(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A recording folder of its own for each call. */
    function call(options: { parameters?: Record<string, string>; jitterMs?: number; echoMarks?: boolean } = {}): Promise<PhoneClient> {
      n++;
      return PhoneClient.call(`${server.url}/${carrier}?record=true&n=${n}`, { carrier, ...options });
    }

    it('replies come as 160-byte G.711 frames at real-time pace, each utterance followed by a mark', async (t) => {
      const phone = await call();
      await phone.waitForReplies(1, 30_000, 600);
      phone.say(Buffer.concat([toneAudio(600, dir), lineSilence(900)]));
      await phone.waitForReplies(2, 30_000, 600);
      phone.hangUp();
      await phone.closed();
      const replies = phone.replies(600);
      assert.equal(replies.length, 2);
      for (const reply of replies) {
        assert.ok(reply.frames.every((frame) => frame.bytes.length === 160), 'every media message carries 20 ms (160 bytes)');
        assert.equal(reply.next, 'mark', 'a mark follows the last frame of the utterance');
      }
      const greeting = replies[0]?.frames ?? [];
      // The whole greeting, in audio time: 40 ms per character of its sentences (the spaces between them are not spoken).
      const spoken = STORY.replace(/(?<=\.) /g, '').length;
      assert.ok(Math.abs(greeting.length * 20 - spoken * MS_PER_CHAR) <= 40, `${greeting.length} frames for ${spoken} characters`);
      const slope = pace(greeting);
      t.diagnostic(`greeting: ${greeting.length} frames paced at ${slope.toFixed(4)} × real time`);
      assert.ok(slope > 0.9 && slope < 1.1, `greeting paced at ${slope.toFixed(3)} × real time`);
      assert.equal(phone.closeCode, 1000);
    });

    it('a barge-in sends clear; history holds what the line played, and marks returned for cleared audio count for nothing', async (t) => {
      const before = thinkRequests.length;
      // A line that holds over a second of audio: Parley has sent far more than the caller heard.
      const phone = await call({ jitterMs: 1200 });
      await phone.waitForPlayed(2500);
      phone.say(Buffer.concat([toneAudio(700, dir), lineSilence(1000)]));
      for (let waited = 0; phone.clears.length === 0; waited += 20) {
        assert.ok(waited < 10_000, 'no clear after the barge-in');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (let waited = 0; thinkRequests.length === before; waited += 20) {
        assert.ok(waited < 10_000, 'the caller\'s turn got no reply');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      phone.hangUp();
      await phone.closed();
      const clear = phone.clears[0] as { playedBytes: number; receivedBytes: number };
      const playedMs = clear.playedBytes / 8;
      const receivedMs = clear.receivedBytes / 8;
      assert.ok(receivedMs - playedMs > 600, `the line had played ${playedMs} of ${receivedMs} ms: the test cannot tell played from sent`);
      assert.ok(phone.echoed.some((mark) => !mark.played), 'the line returned marks for the cleared audio');
      const request = thinkRequests.at(-1);
      const heard = request?.messages.find((m) => m.role === 'assistant')?.content ?? '';
      assert.ok(STORY.startsWith(heard), `history "${heard}" is the start of the greeting`);
      t.diagnostic(`line played ${playedMs} ms of ${receivedMs} ms received; history holds ${heard.length * MS_PER_CHAR} ms of speech`);
      // Every character heard costs 40 ms of audio; sentence breaks are the only slack.
      assert.ok(heard.length * MS_PER_CHAR <= playedMs + 5 * MS_PER_CHAR, `history holds ${heard.length * MS_PER_CHAR} ms of speech; the line played ${playedMs} ms`);
      assert.ok(heard.length * MS_PER_CHAR >= playedMs - 700, `history holds ${heard.length * MS_PER_CHAR} ms of speech; the line played ${playedMs} ms`);
    });

    it('keys pressed become one user message, and reach the log and the recording', async () => {
      const before = thinkRequests.length;
      const phone = await call({ parameters: { agent: 'short' } });
      await phone.waitForReplies(1, 10_000);
      for (const digit of ['4', '2', '#']) phone.dtmf(digit);
      for (let waited = 0; thinkRequests.length === before; waited += 20) {
        assert.ok(waited < 10_000, 'the keys got no reply');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await phone.waitForReplies(2, 10_000);
      phone.hangUp();
      await phone.closed();
      const user = thinkRequests.at(-1)?.messages.filter((m) => m.role === 'user').at(-1);
      assert.equal(user?.content, 'The caller pressed 42#');
      const transcript = await callTranscript(recordDir, phone.streamId);
      assert.deepEqual(
        transcript.notes.filter((note) => note.type === 'dtmf').map((note) => note.digit),
        ['4', '2', '#'],
      );
      assert.ok(transcript.turns.some((turn) => turn.role === 'user' && turn.text === 'The caller pressed 42#'));
    });

    it('race: a stream that stops while its start is admitted or its agent starts leaves no session and no unfinished recording', async () => {
      const phone = await call();
      phone.hangUp();
      await phone.closed();
      for (let waited = 0; server.sessionCount() > 0; waited += 20) {
        assert.ok(waited < 5000, 'the call is still counted');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // Admission comes first (docs/telephony.md#limits-and-usage): a stop before it leaves no
      // recording at all; one after it, a finished one.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const left = readdirSync(recordDir)
        .filter((name) => name.endsWith('.json'))
        .map((name) => JSON.parse(readFileSync(join(recordDir, name), 'utf8')) as Transcript)
        .filter((transcript) => transcript.call?.['stream'] === phone.streamId);
      assert.ok(left.every((transcript) => transcript.endedAt !== null), 'a recording of the call was left unfinished');
    });

    it('a line that never echoes marks still finishes its replies, on the session\'s own estimate past the grace period', async () => {
      const phone = await call({ parameters: { agent: 'short' }, echoMarks: false });
      await phone.waitForReplies(1, 10_000);
      const start = phone.now();
      const transcript = (): Transcript | undefined => {
        for (const file of readdirSync(recordDir).filter((name) => name.endsWith('.json'))) {
          const found = JSON.parse(readFileSync(join(recordDir, file), 'utf8')) as Transcript;
          if (found.call?.['stream'] === phone.streamId) return found;
        }
        return undefined;
      };
      for (;;) {
        const turn = transcript()?.turns.find((t) => t.role === 'agent');
        if (turn?.role === 'agent' && turn.audioDoneMs !== undefined) {
          assert.deepEqual(turn.heard, ['Hello there, caller.']);
          break;
        }
        assert.ok(phone.now() - start < 8000, 'the greeting never finished');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      phone.hangUp();
      await phone.closed();
    });
  });
}

describe('phone paths: keys, bounds and the agents file', () => {
  let server: RunningServer;
  let dir: string;
  let agentsFile: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-phone-'));
    agentsFile = join(dir, 'agents.json');
    writeFileSync(agentsFile, JSON.stringify({ first: scripted('Hello from the first agent.') }));
    server = await startTestServer({ agentsFile, apiKeys: ['secret-key'], idleTimeoutMs: 60_000 });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const closedWith = async (phone: PhoneClient): Promise<{ code: number | undefined; reason: string }> => {
    await phone.closed();
    return { code: phone.closeCode, reason: phone.closeReason };
  };

  it('a wrong key in the URL is refused at the upgrade with 401', async () => {
    await assert.rejects(PhoneClient.call(`${server.url}/twilio?token=wrong`, { carrier: 'twilio' }), /HTTP 401/);
  });

  it('a key in the start message\'s parameters admits the call; none closes it with 4401', async () => {
    const admitted = await PhoneClient.call(`${server.url}/twilio`, { carrier: 'twilio', parameters: { token: 'secret-key' } });
    await admitted.waitForReplies(1, 10_000);
    admitted.hangUp();
    await admitted.closed();
    const refused = await PhoneClient.call(`${server.url}/telnyx`, { carrier: 'telnyx', parameters: { token: 'wrong' } });
    const { code, reason } = await closedWith(refused);
    assert.equal(code, 4401);
    assert.match(reason, /^Unauthorized/);
    assert.equal(refused.received.length, 0, 'nothing was sent to an unauthorized stream');
  });

  it('a key in the URL admits the call', async () => {
    const phone = await PhoneClient.call(`${server.url}/telnyx?token=secret-key`, { carrier: 'telnyx' });
    await phone.waitForReplies(1, 10_000);
    phone.hangUp();
    assert.equal((await closedWith(phone)).code, 1000);
  });

  const refusals: [string, (phone: PhoneClient) => void, RegExp][] = [
    ['an oversized message', (phone) => phone.send({ event: 'media', media: { payload: 'A'.repeat(70_000) } }), /^UNPARSABLE_CLIENT_MESSAGE: A message of \d+ bytes exceeds the limit of 65536 bytes/],
    ['a payload that is not base64', (phone) => phone.send({ event: 'media', media: { track: 'inbound', payload: '!!not base64!!' } }), /^UNPARSABLE_CLIENT_MESSAGE: media.payload is not base64/],
    ['a binary frame', (phone) => phone.ws.send(Buffer.alloc(160), { binary: true }), /^UNPARSABLE_CLIENT_MESSAGE: Binary frames/],
    ['text that is not JSON', (phone) => phone.ws.send('{"event":'), /^UNPARSABLE_CLIENT_MESSAGE: The message is not valid JSON/],
    ['a message nested too deep', (phone) => phone.ws.send(`{"event":"x","a":${'['.repeat(100)}${']'.repeat(100)}}`), /^UNPARSABLE_CLIENT_MESSAGE: The message nests more than/],
    ['a key that is not a keypad key', (phone) => phone.dtmf('Z'), /^UNPARSABLE_CLIENT_MESSAGE: dtmf.digit is not a keypad key/],
  ];
  for (const [what, send, reason] of refusals) {
    it(`${what} closes the stream with a readable reason`, async () => {
      const phone = await PhoneClient.call(`${server.url}/twilio?token=secret-key`, { carrier: 'twilio' });
      send(phone);
      const closed = await closedWith(phone);
      assert.equal(closed.code, 1008);
      assert.match(closed.reason, reason);
    });
  }

  it('too many custom parameters, an unknown agent and an unsupported codec are refused by name', async () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}`, 'x']));
    const crowded = await PhoneClient.call(`${server.url}/twilio?token=secret-key`, { carrier: 'twilio', parameters: many });
    assert.match((await closedWith(crowded)).reason, /^UNPARSABLE_CLIENT_MESSAGE: Invalid start message: .*at most 32 custom parameters/);
    const unknown = await PhoneClient.call(`${server.url}/twilio?token=secret-key`, { carrier: 'twilio', parameters: { agent: 'nobody' } });
    assert.match((await closedWith(unknown)).reason, /^INVALID_SETTINGS: No agent named "nobody" in the agents file; it has "first"/);
    const l16 = await PhoneClient.open(`${server.url}/telnyx?token=secret-key`, { carrier: 'telnyx' });
    l16.send({ event: 'start', sequence_number: '1', start: { media_format: { encoding: 'L16', sample_rate: 16000, channels: 1 } }, stream_id: 's' });
    assert.match((await closedWith(l16)).reason, /^USER_AUDIO_FORMAT: start.media_format L16 at 16000 Hz is not supported/);
  });

  it('the agents file is read again when it changes; a broken edit keeps the agents before it', async () => {
    const ask = async (agent: string): Promise<string> => {
      const phone = await PhoneClient.call(`${server.url}/twilio?token=secret-key`, { carrier: 'twilio', parameters: { agent } });
      const outcome = await Promise.race([phone.waitForReplies(1, 10_000).then(() => 'answered'), closedWith(phone).then((c) => c.reason)]);
      phone.close();
      return outcome;
    };
    assert.match(await ask('second'), /No agent named "second"/);
    writeFileSync(agentsFile, JSON.stringify({ first: scripted('Hello from the first agent.'), second: scripted('Hello from the second agent.') }));
    let outcome = '';
    for (let tries = 0; tries < 30 && outcome !== 'answered'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      outcome = await ask('second');
    }
    assert.equal(outcome, 'answered');
    writeFileSync(agentsFile, '{ not json');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await ask('second'), 'answered');
  });
});
