/**
 * Compressed audio in and out (docs/protocol-decisions.md#compressed-audio): hostile streams get
 * USER_AUDIO_FORMAT and never a crash; large messages are decoded in slices, in order; whole
 * compressed frames are paced by their duration and dropped at a barge-in.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { InputDecoder, MAX_DECODED_MS_PER_MESSAGE } from '../../src/audio/input-decoder.js';
import type { DecodedAudio } from '../../src/audio/input-decoder.js';
import { OutputEncoder } from '../../src/audio/output-encoder.js';
import type { ReferencedFrame } from '../../src/audio/output-encoder.js';
import { PlayoutClock } from '../../src/audio/playout-clock.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import type { InputEncoding } from '../../src/protocol/agent-config.js';
import { cardsClips } from '../support/fixtures.js';

function ffmpeg(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 64 * 1024 * 1024 });
}

const speech = (cardsClips()[0] as { path: string }).path;

async function decode(decoder: InputDecoder, bytes: Uint8Array): Promise<Int16Array> {
  return await decoder.push(bytes);
}

/** The USER_AUDIO_FORMAT error a push raises, sync or async. */
async function refusal(push: () => DecodedAudio): Promise<ProtocolError> {
  try {
    await push();
  } catch (err) {
    assert.ok(err instanceof ProtocolError, String(err));
    assert.equal(err.code, 'USER_AUDIO_FORMAT');
    return err;
  }
  assert.fail('expected USER_AUDIO_FORMAT');
}

function random(bytes: number, seed = 7): Uint8Array {
  const out = new Uint8Array(bytes);
  let state = seed;
  for (let i = 0; i < bytes; i++) {
    state = (state * 48271) % 2147483647;
    out[i] = state & 0xff;
  }
  return out;
}

describe('compressed client audio that does not decode', () => {
  for (const encoding of ['flac', 'ogg-opus', 'opus'] as InputEncoding[]) {
    it(`${encoding}: garbage is USER_AUDIO_FORMAT, naming why`, async () => {
      const decoder = InputDecoder.create({ encoding, sampleRate: 16000 }, 16000);
      const error = await refusal(() => decoder.push(random(4000)));
      assert.match(error.message, /not (a FLAC stream|an Ogg stream|an Opus packet)/);
      decoder.close();
    });
  }

  it('flac: a stream claiming 16 MiB of metadata is refused before libFLAC reads it', async () => {
    const decoder = InputDecoder.create({ encoding: 'flac', sampleRate: 16000 }, 16000);
    // "fLaC", then a last PADDING block (type 1) whose 24-bit length says 16 MiB - 1.
    const header = Uint8Array.of(0x66, 0x4c, 0x61, 0x43, 0x81, 0xff, 0xff, 0xff);
    const error = await refusal(() => decoder.push(header));
    assert.match(error.message, /claims more than \d+ bytes of metadata/);
    decoder.close();
  });

  it('flac: a message of a few kilobytes that claims more than a minute of audio is refused', async () => {
    const silence = ffmpeg(['-f', 'lavfi', '-i', `anullsrc=r=8000:cl=mono`, '-t', String(MAX_DECODED_MS_PER_MESSAGE / 1000 + 30), '-c:a', 'flac', '-f', 'flac', '-']);
    assert.ok(silence.length < 64 * 1024, `${silence.length} bytes`);
    const decoder = InputDecoder.create({ encoding: 'flac', sampleRate: 8000 }, 16000);
    const error = await refusal(() => decoder.push(silence));
    assert.match(error.message, /decodes to more than 60 s of audio/);
    decoder.close();
  });

  it('flac and ogg-opus: a stream cut short waits for the rest, then decodes it', async () => {
    for (const [encoding, bytes] of [
      ['flac', ffmpeg(['-i', speech, '-c:a', 'flac', '-f', 'flac', '-'])],
      ['ogg-opus', ffmpeg(['-i', speech, '-c:a', 'libopus', '-f', 'ogg', '-'])],
    ] as const) {
      const decoder = InputDecoder.create({ encoding, sampleRate: 16000 }, 16000);
      const half = Math.floor(bytes.length / 2);
      const first = await decode(decoder, bytes.subarray(0, half));
      const second = await decode(decoder, bytes.subarray(half));
      const whole = ffmpeg(['-i', speech, '-f', 's16le', '-']).length / 2;
      assert.ok(Math.abs(first.length + second.length - whole) <= 16000 * 0.03, `${encoding}: ${first.length + second.length} of ${whole} samples`);
      decoder.close();
    }
  });

  it('ogg-opus: a page that fails its checksum loses sync and is USER_AUDIO_FORMAT', async () => {
    const bytes = Buffer.from(ffmpeg(['-i', speech, '-c:a', 'libopus', '-f', 'ogg', '-']));
    const corrupt = Buffer.from(bytes);
    const middle = Math.floor(corrupt.length / 2);
    corrupt[middle] = (corrupt[middle] as number) ^ 0xff;
    const decoder = InputDecoder.create({ encoding: 'ogg-opus', sampleRate: 16000 }, 16000);
    const error = await refusal(() => decoder.push(corrupt));
    assert.match(error.message, /lost sync|checksum|gap/);
    decoder.close();
  });

  it('ogg-opus: an Ogg stream that is not Opus is refused', async () => {
    const vorbis = ffmpeg(['-i', speech, '-c:a', 'flac', '-f', 'ogg', '-']);
    const decoder = InputDecoder.create({ encoding: 'ogg-opus', sampleRate: 16000 }, 16000);
    const error = await refusal(() => decoder.push(vorbis));
    assert.match(error.message, /not Opus/);
    decoder.close();
  });
});

describe('a large compressed message', () => {
  it('is decoded in slices, and a small message sent while it decodes comes out after it (race)', async () => {
    const long = ffmpeg(['-i', speech, '-i', speech, '-i', speech, '-filter_complex', 'concat=n=3:v=0:a=1', '-c:a', 'flac', '-f', 'flac', '-']);
    const decoder = InputDecoder.create({ encoding: 'flac', sampleRate: 16000 }, 16000);
    const order: string[] = [];
    const big = decoder.push(long.subarray(0, long.length - 100));
    assert.ok(big instanceof Promise, 'the large message is decoded across turns of the event loop');
    const small = decoder.push(long.subarray(long.length - 100));
    void Promise.resolve(small).then(() => order.push('small'));
    void big.then(() => order.push('big'));
    await Promise.all([big, small]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['big', 'small']);
    decoder.close();
  });
});

describe('compressed agent audio on the playout clock', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  async function opusFrames(ms: number): Promise<{ header: Uint8Array; frames: ReferencedFrame[] }> {
    const encoder = OutputEncoder.create({ encoding: 'opus', sampleRate: 48000, container: 'ogg', bitrate: 12000 });
    const header = encoder.startUtterance();
    const samples = Int16Array.from({ length: 16 * ms }, (_, i) => Math.round(6000 * Math.sin(i / 5) * Math.sin(i / 900)));
    const frames = [...((await encoder.encode({ samples, sampleRate: 16000 })) as ReferencedFrame[]), ...(encoder.endUtterance() as ReferencedFrame[])];
    encoder.close();
    return { header, frames };
  }

  it('paces whole Ogg pages by their duration, not their size, and drops those not sent at a barge-in', async () => {
    mock.timers.reset();
    const { header, frames } = await opusFrames(3000);
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const sent: { at: number; bytes: number }[] = [];
    const clock = new PlayoutClock({ leadMs: 200, bytesPerMs: 1.5, send: (bytes) => sent.push({ at: Date.now(), bytes: bytes.length }), now: () => Date.now() });
    clock.enqueueRaw(header);
    for (const frame of frames) clock.enqueueFrame(frame.bytes, frame.ms);
    const total = frames.reduce((ms, f) => ms + f.ms, 0);
    assert.ok(Math.abs(total - 3000) < 1, `${total} ms of pages`);
    for (let t = 0; t < 1500; t++) {
      mock.timers.tick(1);
      assert.ok(clock.sentMs() - Date.now() <= 200 + 1e-6, `sent ${clock.sentMs()} ms at ${Date.now()} ms`);
    }
    const before = sent.length;
    assert.ok(clock.sentMs() >= 1500 && clock.sentMs() <= 1760, `${clock.sentMs()} ms sent after 1.5 s`);
    assert.ok(sent.every((s, i) => i === 0 || s.bytes === (frames[i - 1] as ReferencedFrame).bytes.length), 'each page goes out whole');
    const played = clock.interrupt();
    assert.ok(Math.abs(played - 1500) <= 1);
    mock.timers.tick(2000);
    assert.equal(sent.length, before, 'nothing queued goes out after the interrupt');
  });
});

describe('an utterance that produced no audio', () => {
  it('ends cleanly in every compressed encoding (libopusenc aborts on draining an empty stream)', () => {
    for (const format of [
      { encoding: 'opus', sampleRate: 48000, container: 'ogg', bitrate: 12000 },
      { encoding: 'mp3', sampleRate: 22050, container: 'none', bitrate: 48000 },
      { encoding: 'flac', sampleRate: 16000, container: 'none' },
    ] as const) {
      const encoder = OutputEncoder.create(format);
      encoder.startUtterance();
      assert.deepEqual(encoder.endUtterance(), []);
      encoder.startUtterance();
      encoder.startUtterance();
      encoder.close();
    }
  });
});
