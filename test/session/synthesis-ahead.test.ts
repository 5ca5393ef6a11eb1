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

interface VoiceBehaviour {
  /** Real time before each chunk (default: a turn of the event loop, like a real engine). */
  chunkDelayMs?: number;
  /** Awaited before a sentence's first chunk. */
  beforeFirst?: (text: string) => Promise<void>;
  /** Sentences it fails on before any audio. */
  failsOn?: (text: string) => boolean;
}

/** A voice that says each sentence as `sentenceMs` of audio in `chunkMs` chunks, as fast as it is asked, and counts what it was asked for. */
class CountingVoice implements SpeakProvider {
  readonly label = 'counting';
  readonly sentences: string[] = [];
  synthesizedMs = 0;
  open = 0;
  /** The most sentence streams open at once. */
  mostOpen = 0;

  constructor(
    private readonly sentenceMs: number,
    private readonly chunkMs: number,
    private readonly behaviour: VoiceBehaviour = {},
  ) {}

  async *synthesize(text: string, signal: AbortSignal): AsyncGenerator<PcmChunk> {
    this.sentences.push(text);
    this.open++;
    this.mostOpen = Math.max(this.mostOpen, this.open);
    try {
      await this.behaviour.beforeFirst?.(text);
      if (this.behaviour.failsOn?.(text) === true) throw new Error(`cannot say ${text}`);
      for (let done = 0; done < this.sentenceMs && !signal.aborted; done += this.chunkMs) {
        await sleep(this.behaviour.chunkDelayMs ?? 0);
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
 * jump past the audio sent is, to the clock, a listener who heard silence; and, when the test
 * says so, once synthesis has caught up with the step (hand-moved time runs faster than the
 * real-time waits of synthesis held at the bound).
 */
function listener(): { clock: PlayoutClock; hearUntil: (ms: number, caughtUp?: (heardMs: number) => boolean) => Promise<void> } {
  let now = 0;
  const clock = new PlayoutClock({ leadMs: 200, bytesPerMs: BYTES_PER_MS, send: () => undefined, now: () => now });
  const hearUntil = async (ms: number, caughtUp: (heardMs: number) => boolean = () => true): Promise<void> => {
    while (now < ms) {
      const next = Math.min(ms, now + 100);
      await until(() => clock.sentMs() >= next || !clock.isSending(), `the clock sends up to ${next} ms`);
      now = next;
      await until(() => caughtUp(now), `synthesis catches up with ${now} ms heard`);
    }
  };
  return { clock, hearUntil };
}

interface Record {
  heard: string[];
  failed: string[];
  warnings: WarningNotice[];
  /** Sentences whose first audio went out (their ConversationText), in order. */
  started?: string[];
}

function utterance(voice: SpeakProvider, clock: PlayoutClock, aheadMs: number, record: Record): Utterance {
  const chain = new SpeakChain([voice], (notice) => record.warnings.push(notice));
  return new Utterance(
    chain,
    encoder,
    clock,
    {
      sentenceStarts: (text) => record.started?.push(text),
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
  it("synthesizes a long reply only up to the bound ahead of what the listener has heard, and the next sentence's first chunk", async () => {
    const { clock, hearUntil } = listener();
    const voice = new CountingVoice(2000, 100);
    const record: Record = { heard: [], failed: [], warnings: [] };
    const speech = utterance(voice, clock, 1000, record);
    const sentences = Array.from({ length: 10 }, (_, i) => `Sentence number ${i + 1}.`);
    for (const sentence of sentences) speech.say(sentence);

    // Nothing heard yet: the bound plus the one chunk that crossed it, and the second sentence's
    // first chunk, asked for while less than half the bound waited to be heard.
    await until(() => voice.synthesizedMs >= 1200, 'the first second is synthesized');
    await sleep(300);
    assert.equal(voice.synthesizedMs, 1200);
    assert.deepEqual(voice.sentences, sentences.slice(0, 2));

    // 2 s heard: synthesis moves on into the second sentence, and no further than the bound: the
    // third is not asked for while more than half the bound waits to be heard.
    await hearUntil(2000, (heardMs) => voice.synthesizedMs >= heardMs + 1100);
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
    const record: Record = { heard: [], failed: [], warnings: [] };
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
    const record: Record = { heard: [], failed: [], warnings: [] };
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

describe('the next sentence, asked for while the one before streams', () => {
  const newRecord = (): Required<Record> => ({ heard: [], failed: [], warnings: [], started: [] });
  const first = 'The first sentence.';
  const second = 'The second sentence.';
  const third = 'The third sentence.';

  it("opens the next sentence's synthesis while the sentence before still streams, one sentence ahead at most", async () => {
    const { clock, hearUntil } = listener();
    // A second of audio per sentence, streamed over about 200 ms.
    const voice = new CountingVoice(1000, 100, { chunkDelayMs: 20 });
    const record = newRecord();
    const speech = utterance(voice, clock, 3000, record);
    for (const sentence of [first, second, third]) speech.say(sentence);
    await until(() => voice.sentences.length === 2, 'the second sentence is asked for');
    assert.equal(voice.open, 2, 'the first sentence still streams');
    const done = speech.end();
    await hearUntil(4000);
    assert.equal(await done, 'done');
    assert.equal(voice.mostOpen, 2);
    assert.equal(voice.synthesizedMs, 3000);
    assert.deepEqual(record.started, [first, second, third]);
    assert.deepEqual(record.heard, [first, second, third]);
    assert.deepEqual(record.failed, []);
    clock.stop();
  });

  it("race: interrupt while the next sentence's first chunk is held, asked for ahead", async () => {
    const { clock } = listener();
    const voice = new CountingVoice(1000, 100, { chunkDelayMs: 20 });
    const record = newRecord();
    const speech = utterance(voice, clock, 3000, record);
    speech.say(first);
    speech.say(second);
    await until(() => voice.sentences.length === 2 && voice.synthesizedMs >= 300, 'the second sentence has its first chunk');
    speech.interrupt();
    assert.equal(await speech.end(), 'interrupted');
    await until(() => voice.open === 0, 'both streams are closed');
    assert.deepEqual(record.started, [first], 'the second sentence never starts');
    assert.deepEqual(record.heard, [], 'nothing was heard (the listener is at 0 ms)');
    assert.deepEqual(record.failed, []);
    clock.stop();
  });

  it("race: interrupt while the next sentence's first chunk is still on its way", async () => {
    const { clock } = listener();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const voice = new CountingVoice(1000, 100, { chunkDelayMs: 20, beforeFirst: (text) => (text === second ? held : Promise.resolve()) });
    const record = newRecord();
    const speech = utterance(voice, clock, 3000, record);
    speech.say(first);
    speech.say(second);
    await until(() => voice.sentences.length === 2, 'the second sentence is asked for');
    speech.interrupt();
    assert.equal(await speech.end(), 'interrupted', 'the utterance ends without waiting for the second sentence');
    release();
    await until(() => voice.open === 0, 'both streams are closed');
    assert.deepEqual(record.started, [first]);
    assert.deepEqual(record.failed, []);
    clock.stop();
  });

  it('a sentence asked for ahead that fails is reported in its turn, once, after the sentence before', async () => {
    const { clock, hearUntil } = listener();
    const voice = new CountingVoice(1000, 100, { chunkDelayMs: 20, failsOn: (text) => text === second });
    const record = newRecord();
    const speech = utterance(voice, clock, 3000, record);
    speech.say(first);
    speech.say(second);
    await until(() => voice.sentences.length === 2 && voice.open === 1, 'the second sentence has failed');
    assert.deepEqual(record.failed, [], 'not yet: the first sentence still streams');
    const done = speech.end();
    await hearUntil(2000);
    assert.equal(await done, 'interrupted');
    assert.deepEqual(record.failed, ['FAILED_TO_SPEAK']);
    assert.deepEqual(record.started, [first]);
    assert.equal(voice.open, 0);
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
