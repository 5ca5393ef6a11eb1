import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlayoutClock } from '../../src/audio/playout-clock.js';
import type { WarningNotice } from '../../src/protocol/errors.js';
import { guarded } from '../../src/providers/guard.js';
import { SentenceSplitter } from '../../src/session/sentence-splitter.js';
import { SpeakChain } from '../../src/session/speak-chain.js';
import { Utterance } from '../../src/session/utterance.js';
import type { AudioEncoder } from '../../src/session/utterance.js';
import type { PcmChunk, SpeakProvider } from '../../src/speak/types.js';

const RATE = 16000;
const BYTES_PER_MS = (RATE * 2) / 1000;

/** A voice that says each sentence as `sentenceMs` of audio in `chunkMs` chunks, as fast as it is asked, and counts what it was asked for. */
class CountingVoice implements SpeakProvider {
  readonly label = 'counting';
  readonly sentences: string[] = [];
  synthesizedMs = 0;
  open = 0;

  constructor(
    private readonly sentenceMs: number,
    private readonly chunkMs: number,
  ) {}

  async *synthesize(text: string, signal: AbortSignal): AsyncGenerator<PcmChunk> {
    this.sentences.push(text);
    this.open++;
    try {
      for (let done = 0; done < this.sentenceMs && !signal.aborted; done += this.chunkMs) {
        // A turn of the event loop per chunk, like a real engine.
        await sleep(0);
        this.synthesizedMs += this.chunkMs;
        yield { samples: new Int16Array((this.chunkMs * RATE) / 1000), sampleRate: RATE };
      }
    } finally {
      this.open--;
    }
  }
}

const encoder: AudioEncoder = {
  bytesPerMs: BYTES_PER_MS,
  startUtterance: () => new Uint8Array(0),
  encode: (chunk) => new Uint8Array(chunk.samples.buffer, chunk.samples.byteOffset, chunk.samples.byteLength),
  endUtterance: () => new Uint8Array(0),
};

/**
 * The real playout clock on a hand-moved time: the listener hears only as far as the test says.
 * Time moves in steps within the clock's lead, each once the clock has sent up to it, since a
 * jump past the audio sent is, to the clock, a listener who heard silence.
 */
function listener(): { clock: PlayoutClock; hearUntil: (ms: number) => Promise<void> } {
  let now = 0;
  const clock = new PlayoutClock({ leadMs: 200, bytesPerMs: BYTES_PER_MS, send: () => undefined, now: () => now });
  const hearUntil = async (ms: number): Promise<void> => {
    while (now < ms) {
      const next = Math.min(ms, now + 100);
      await until(() => clock.sentMs() >= next || !clock.isSending(), `the clock sends up to ${next} ms`);
      now = next;
    }
  };
  return { clock, hearUntil };
}

function utterance(voice: SpeakProvider, clock: PlayoutClock, aheadMs: number, record: { heard: string[]; failed: string[]; warnings: WarningNotice[] }): Utterance {
  const chain = new SpeakChain([voice], (notice) => record.warnings.push(notice));
  return new Utterance(
    chain,
    encoder,
    clock,
    {
      sentenceStarts: () => undefined,
      firstAudio: () => undefined,
      heard: (text) => record.heard.push(text),
      failed: (error) => record.failed.push(error.code),
    },
    aheadMs,
  );
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 5000) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

describe('synthesis ahead of the playout clock', () => {
  it('synthesizes a long reply only up to the bound ahead of what the listener has heard', async () => {
    const { clock, hearUntil } = listener();
    const voice = new CountingVoice(2000, 100);
    const record = { heard: [] as string[], failed: [] as string[], warnings: [] as WarningNotice[] };
    const speech = utterance(voice, clock, 1000, record);
    const sentences = Array.from({ length: 10 }, (_, i) => `Sentence number ${i + 1}.`);
    for (const sentence of sentences) speech.say(sentence);

    // Nothing heard yet: the bound plus the one chunk that crossed it.
    await until(() => voice.synthesizedMs >= 1100, 'the first second is synthesized');
    await sleep(300);
    assert.equal(voice.synthesizedMs, 1100);
    assert.deepEqual(voice.sentences, [sentences[0]]);

    // 2 s heard: synthesis moves on into the second sentence, and no further than the bound.
    await hearUntil(2000);
    await until(() => voice.synthesizedMs >= 3100, 'synthesis follows the listener');
    await sleep(300);
    assert.equal(voice.synthesizedMs, 3100);
    assert.deepEqual(voice.sentences, sentences.slice(0, 2));
    assert.deepEqual(record.heard, [sentences[0]]);

    speech.interrupt();
    assert.equal(await speech.end(), 'interrupted');
    assert.equal(voice.open, 0, 'the synthesis stream is closed');
    assert.deepEqual(record.failed, []);
    clock.stop();
  });

  it('an interrupt while synthesis waits for the listener ends the utterance at once', async () => {
    const { clock } = listener();
    // One 10 s chunk against a 1 s bound: the wait would last about 9 s.
    const voice = new CountingVoice(20_000, 10_000);
    const record = { heard: [] as string[], failed: [] as string[], warnings: [] as WarningNotice[] };
    const speech = utterance(voice, clock, 1000, record);
    speech.say('A very long sentence.');
    await until(() => voice.synthesizedMs === 10_000, 'the first chunk is synthesized');
    await sleep(50);
    speech.interrupt();
    const outcome = await Promise.race([speech.end(), sleep(2000, 'still waiting')]);
    assert.equal(outcome, 'interrupted');
    assert.equal(voice.synthesizedMs, 10_000, 'no chunk is pulled after the interrupt');
    assert.equal(voice.open, 0, 'the synthesis stream is closed');
    clock.stop();
  });

  it("a guarded provider's watchdog does not fire while synthesis waits for the listener", async () => {
    const { clock, hearUntil } = listener();
    const inner = new CountingVoice(600, 100);
    const voice: SpeakProvider = {
      label: 'guarded',
      synthesize: (text, signal) =>
        guarded({ kind: 'speak', provider: 'guarded', timeoutMs: 50, secrets: [], signal }, (watched) => inner.synthesize(text, watched)),
    };
    const record = { heard: [] as string[], failed: [] as string[], warnings: [] as WarningNotice[] };
    const speech = utterance(voice, clock, 100, record);
    speech.say('Wait for me.');
    await until(() => inner.synthesizedMs >= 200, 'the first chunks are synthesized');
    // Six watchdog timeouts while the consumer holds a chunk.
    await sleep(300);
    assert.equal(inner.synthesizedMs, 200);
    const done = speech.end();
    await hearUntil(10_000);
    assert.equal(await done, 'done');
    assert.equal(inner.synthesizedMs, 600);
    assert.deepEqual(record.heard, ['Wait for me.']);
    assert.deepEqual(record.warnings, []);
    assert.deepEqual(record.failed, []);
    clock.stop();
  });
});

describe('sentences are short enough to synthesize one at a time', () => {
  it('cuts a 20,000-character injection without punctuation into sentences of at most 220 characters, losing no word', () => {
    const words = Array.from({ length: 6000 }, (_, i) => `w${i % 1000}`);
    const text = words.join(' ').slice(0, 20_000);
    const sentences = new SentenceSplitter().push(`${text}\n`);
    assert.equal(text.length, 20_000);
    assert.ok(sentences.length > 90, `${sentences.length} sentences`);
    for (const sentence of sentences) assert.ok(sentence.length <= 220, `${sentence.length} characters`);
    assert.ok(sentences.join(' ') === text.trim(), 'every word is kept, in order');
  });

  it('cuts a run with no space at all, never inside a surrogate pair', () => {
    const text = `${'x'.repeat(219)}${'🎉'.repeat(200)}`;
    const splitter = new SentenceSplitter();
    const sentences = [...splitter.push(text), ...splitter.flush()];
    for (const sentence of sentences) assert.ok(sentence.length <= 220 && !/[\ud800-\udbff]$/.test(sentence) && !/^[\udc00-\udfff]/.test(sentence));
    assert.ok(sentences.join('') === text, 'every character is kept, in order');
  });
});
