import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputEncoder } from '../../src/audio/output-encoder.js';
import type { PlayoutClockLike } from '../../src/session/utterance.js';
import { SpeakChain } from '../../src/session/speak-chain.js';
import { Utterance } from '../../src/session/utterance.js';
import type { PcmChunk, SpeakProvider } from '../../src/speak/types.js';

const ENGINE_RATE = 24000;

/** A 440 Hz tone, in `chunks` pieces of 60 ms, as an engine at 24 kHz would deliver it. */
function tone(chunks: number): PcmChunk[] {
  const per = (ENGINE_RATE * 60) / 1000;
  return Array.from({ length: chunks }, (_, c) => ({
    samples: Int16Array.from({ length: per }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * (c * per + i)) / ENGINE_RATE))),
    sampleRate: ENGINE_RATE,
  }));
}

class ToneVoice implements SpeakProvider {
  readonly label = 'tone';
  constructor(private readonly chunks: PcmChunk[]) {}
  async *synthesize(): AsyncGenerator<PcmChunk> {
    for (const chunk of this.chunks) {
      await Promise.resolve();
      yield chunk;
    }
  }
}

/** A clock whose listener has heard everything sent; it keeps the bytes, header apart. */
function recordingClock(): PlayoutClockLike & { audio: Buffer[]; raw: Buffer[] } {
  let sent = 0;
  const audio: Buffer[] = [];
  const raw: Buffer[] = [];
  return {
    audio,
    raw,
    startUtterance: () => undefined,
    enqueue: (bytes) => {
      audio.push(Buffer.from(bytes));
      sent += bytes.length;
    },
    enqueueFrame: () => assert.fail('PCM comes as bytes'),
    enqueueRaw: (bytes) => raw.push(Buffer.from(bytes)),
    endUtterance: () => undefined,
    playedMs: () => sent,
    drained: () => Promise.resolve(),
    interrupt: () => 0,
    pause: () => undefined,
    resume: () => undefined,
  };
}

async function speak(encoder: OutputEncoder, chunks: PcmChunk[]): Promise<ReturnType<typeof recordingClock>> {
  const clock = recordingClock();
  const speech = new Utterance(
    new SpeakChain([new ToneVoice(chunks)], () => undefined),
    encoder,
    clock,
    { sentenceStarts: () => undefined, firstAudio: () => undefined, heard: () => undefined, failed: (e) => assert.fail(e.message) },
    60_000,
  );
  speech.say('A tone.');
  assert.equal(await speech.end(), 'done');
  return clock;
}

describe('utterance audio', () => {
  it('comes out as its PCM encoded in one piece: the encoder starts before the first chunk, not after it', async () => {
    const chunks = tone(5);
    const reference = OutputEncoder.create({ encoding: 'linear16', sampleRate: 8000, container: 'none' });
    reference.startUtterance();
    const whole = Buffer.concat([
      Buffer.from((await reference.encode({ samples: Int16Array.from(chunks.flatMap((c) => [...c.samples])), sampleRate: ENGINE_RATE })) as Uint8Array),
      Buffer.from(reference.endUtterance() as Uint8Array),
    ]);

    const encoder = OutputEncoder.create({ encoding: 'linear16', sampleRate: 8000, container: 'none' });
    const first = Buffer.concat((await speak(encoder, chunks)).audio);
    assert.equal(first.length, whole.length);
    assert.ok(first.equals(whole), 'the first chunk lost none of its filter state');
    // A second utterance on the same encoder starts clean as well.
    const second = Buffer.concat((await speak(encoder, chunks)).audio);
    assert.ok(second.equals(whole));
  });

  it('sends the WAV header of a wav container before the first audio, once', async () => {
    const encoder = OutputEncoder.create({ encoding: 'linear16', sampleRate: 16000, container: 'wav' });
    const clock = await speak(encoder, tone(2));
    assert.equal(clock.raw.length, 1);
    assert.equal(clock.raw[0]?.subarray(0, 4).toString('latin1'), 'RIFF');
  });
});
