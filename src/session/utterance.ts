import type { ProtocolError } from '../protocol/errors.js';
import type { EncodedAudio, ReferencedFrame } from '../audio/output-encoder.js';
import type { PcmChunk } from '../speak/types.js';
import type { SpeakChain } from './speak-chain.js';

/** What speech output needs from audio/: the session's encoder and its playout clock. */
export interface AudioEncoder {
  readonly bytesPerMs: number;
  startUtterance(): Uint8Array;
  /** PCM bytes, or whole compressed frames with their durations (src/audio/output-encoder.ts). */
  encode(chunk: PcmChunk): EncodedAudio | Promise<EncodedAudio>;
  endUtterance(): EncodedAudio;
}

export interface PlayoutClockLike {
  startUtterance(): void;
  enqueue(bytes: Uint8Array): void;
  /** One whole compressed frame lasting `ms` (with its PCM, for the echo reference). */
  enqueueFrame(bytes: Uint8Array, ms: number, pcm?: Int16Array): void;
  enqueueRaw(bytes: Uint8Array): void;
  endUtterance(): void;
  playedMs(): number;
  drained(): Promise<void>;
  interrupt(): number;
  /** Holds and releases outgoing frames (a possible interruption, docs/turn-taking.md). */
  pause(): void;
  resume(): void;
}

export interface UtteranceCallbacks {
  /** Right before a sentence's first audio: ConversationText goes out here. */
  sentenceStarts(text: string): void;
  /** Right before the utterance's first audio frame (AgentStartedSpeaking). */
  firstAudio(): void;
  /**
   * A sentence (or, at barge-in, the heard part of one) has been played to the listener;
   * `sentence` is the number `say()` returned for it.
   */
  heard(text: string, sentence: number): void;
  /** Speech failed for good (FAILED_TO_SPEAK). */
  failed(error: ProtocolError): void;
}

interface SentenceSpan {
  text: string;
  /** What `say()` returned for it. */
  sentence: number;
  startMs: number;
  endMs: number;
  reported: boolean;
}

/** A sentence whose synthesis has been opened, and its first chunk asked for. */
interface OpenedSentence {
  text: string;
  sentence: number;
  stream: AsyncGenerator<PcmChunk>;
  first: Promise<IteratorResult<PcmChunk>>;
}

/** How often to check whether queued sentences have been heard, while audio plays out. */
const HEARD_POLL_MS = 50;

/**
 * One agent utterance: sentences in, paced audio out. Synthesis of the next sentence runs while
 * the previous one plays, but never more than `aheadMs` of audio ahead of what the listener has
 * heard: a long reply costs memory and CPU as it is played, not all at once. The next sentence's
 * first chunk is asked for while the one before still streams, once less than half the bound waits
 * to be heard: a voice's first audio is slower than its later chunks, and asked for only when the
 * sentence before had all arrived, it could come after the listener had run out
 * (docs/architecture.md#agent-audio-between-sentences). Knows, from the playout clock, which
 * sentences the user has heard, and reports only those (a barge-in reports the heard words of the
 * sentence in flight).
 */
export class Utterance {
  private readonly pending: { text: string; sentence: number }[] = [];
  /** The sentence after the one being spoken, opened ahead of its turn. */
  private next: OpenedSentence | undefined;
  private said = 0;
  private readonly spans: SentenceSpan[] = [];
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private closed = false;
  private enqueuedMs = 0;
  /** What the encoder's startUtterance() returned (a WAV header, or nothing), once called. */
  private header: Uint8Array | undefined;
  private audioStarted = false;
  private poll: NodeJS.Timeout | undefined;
  private readonly finished: Promise<'done' | 'interrupted'>;

  constructor(
    private readonly chain: SpeakChain,
    private readonly encoder: AudioEncoder,
    private readonly clock: PlayoutClockLike,
    private readonly callbacks: UtteranceCallbacks,
    private readonly aheadMs: number,
  ) {
    this.finished = this.run();
  }

  /** Queues a sentence and returns its number for `heard`; ignored (undefined) once the utterance was interrupted. */
  say(text: string): number | undefined {
    if (this.closed || this.abort.signal.aborted) return undefined;
    const sentence = this.said++;
    this.pending.push({ text, sentence });
    this.wake?.();
    return sentence;
  }

  /** No more sentences: resolves once all audio played ('done') or on interrupt. */
  end(): Promise<'done' | 'interrupted'> {
    this.closed = true;
    this.wake?.();
    return this.finished;
  }

  get interrupted(): boolean {
    return this.abort.signal.aborted;
  }

  /** Whether any audio of this utterance has gone out. */
  get started(): boolean {
    return this.audioStarted;
  }

  /** Barge-in: stop synthesis and sending now; report the heard part. */
  interrupt(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    const playedMs = this.audioStarted ? this.clock.interrupt() : 0;
    this.reportHeard(playedMs, true);
    this.stopPolling();
    this.wake?.();
  }

  private async run(): Promise<'done' | 'interrupted'> {
    const signal = this.abort.signal;
    try {
      for (;;) {
        const sentence = this.next ?? this.open(signal);
        this.next = undefined;
        if (sentence === undefined) {
          if (this.closed || signal.aborted) break;
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        await this.speakSentence(sentence, signal);
        if (signal.aborted) break;
      }
      if (signal.aborted) return 'interrupted';
      if (this.audioStarted) {
        const tail = this.encoder.endUtterance();
        if (tail.length > 0) this.enqueue(tail);
        this.clock.endUtterance();
        await this.clock.drained();
        await this.waitUntilHeard(signal);
      }
      return signal.aborted ? 'interrupted' : 'done';
    } catch (err) {
      if (!signal.aborted) {
        this.abort.abort();
        if (this.audioStarted) this.clock.interrupt();
        this.callbacks.failed(err as ProtocolError);
      }
      return 'interrupted';
    } finally {
      this.stopPolling();
      // Never spoken: its stream ends (the signal has aborted it, or the utterance failed); a
      // generator's return() waits behind a pending first chunk.
      void this.next?.stream.return(undefined).catch(() => undefined);
      this.next = undefined;
    }
  }

  /** Opens the synthesis of the next queued sentence and asks for its first chunk. */
  private open(signal: AbortSignal): OpenedSentence | undefined {
    const queued = this.pending.shift();
    if (queued === undefined) return undefined;
    const stream = this.chain.synthesize(queued.text, signal);
    const first = stream.next();
    // Its failure is taken up in its turn (speakSentence), or dropped with it; never unhandled.
    first.catch(() => undefined);
    return { ...queued, stream, first };
  }

  private async speakSentence(opened: OpenedSentence, signal: AbortSignal): Promise<void> {
    const { text, sentence } = opened;
    let span: SentenceSpan | undefined;
    for await (const chunk of chunksOf(opened)) {
      // The encoder starts the utterance before its first chunk: starting it later would reset
      // the filter state that chunk left, and let an interrupted utterance's state leak in.
      this.header ??= this.encoder.startUtterance();
      const bytes = await this.encoder.encode(chunk);
      if (signal.aborted) return;
      if (bytes.length === 0) continue;
      if (span === undefined) {
        span = { text, sentence, startMs: this.enqueuedMs, endMs: this.enqueuedMs, reported: false };
        this.spans.push(span);
        this.callbacks.sentenceStarts(text);
        if (!this.audioStarted) this.beginAudio();
      }
      this.enqueue(bytes);
      span.endMs = this.enqueuedMs;
      await this.waitForListener(signal);
      if (signal.aborted) return;
      if (this.next === undefined && this.aheadOfListenerMs() <= this.aheadMs / 2) this.next = this.open(signal);
    }
  }

  /**
   * Holds synthesis, before the next chunk is pulled, while more than aheadMs of audio waits to
   * be heard; an interrupt ends the wait at once. A provider's watchdog is paused meanwhile
   * (src/providers/guard.ts: the consumer holds the item), and a local engine's worker finishes at
   * most the sentence in hand, which the splitter keeps short (src/session/sentence-splitter.ts).
   */
  private async waitForListener(signal: AbortSignal): Promise<void> {
    for (let ahead = this.aheadOfListenerMs(); ahead > this.aheadMs && !signal.aborted; ahead = this.aheadOfListenerMs()) {
      await wait(ahead - this.aheadMs, signal);
    }
  }

  private aheadOfListenerMs(): number {
    return this.enqueuedMs - this.clock.playedMs();
  }

  private beginAudio(): void {
    this.audioStarted = true;
    this.callbacks.firstAudio();
    this.clock.startUtterance();
    if (this.header !== undefined && this.header.length > 0) this.clock.enqueueRaw(this.header);
    this.poll = setInterval(() => this.reportHeard(this.clock.playedMs(), false), HEARD_POLL_MS);
  }

  private enqueue(audio: EncodedAudio): void {
    if (audio instanceof Uint8Array) {
      this.clock.enqueue(audio);
      this.enqueuedMs += audio.length / this.encoder.bytesPerMs;
      return;
    }
    for (const frame of audio as ReferencedFrame[]) {
      this.clock.enqueueFrame(frame.bytes, frame.ms, frame.pcm);
      this.enqueuedMs += frame.ms;
    }
  }

  private async waitUntilHeard(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.spans.some((s) => !s.reported)) {
      const remaining = this.enqueuedMs - this.clock.playedMs();
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(remaining, HEARD_POLL_MS))));
      this.reportHeard(this.clock.playedMs(), false);
    }
  }

  /** Reports each sentence once: whole when played through, or its heard words at barge-in. */
  private reportHeard(playedMs: number, final: boolean): void {
    for (const span of this.spans) {
      if (span.reported) continue;
      if (playedMs >= span.endMs - 1) {
        span.reported = true;
        this.callbacks.heard(span.text, span.sentence);
        continue;
      }
      if (final) {
        span.reported = true;
        const part = heardPart(span.text, (playedMs - span.startMs) / Math.max(1, span.endMs - span.startMs));
        if (part !== '') this.callbacks.heard(part, span.sentence);
      }
      return;
    }
  }

  private stopPolling(): void {
    if (this.poll !== undefined) clearInterval(this.poll);
    this.poll = undefined;
  }
}

/** An opened sentence's chunks, its first one already asked for; ending early closes its stream. */
async function* chunksOf(opened: OpenedSentence): AsyncGenerator<PcmChunk> {
  try {
    for (let result = await opened.first; result.done !== true; result = await opened.stream.next()) yield result.value;
  } finally {
    await opened.stream.return(undefined);
  }
}

/**
 * Resolves after `ms`, or at once when `signal` aborts. The global timer, not timers/promises,
 * so that a test's fake clock (node:test mock.timers) drives it like every other session timer.
 */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The words of `text` heard when `fraction` of its audio played: speech time is taken as
 * proportional to characters, and only whole words count.
 */
export function heardPart(text: string, fraction: number): string {
  if (fraction <= 0) return '';
  if (fraction >= 1) return text;
  const cut = Math.floor(text.length * fraction);
  const words = text.split(/(\s+)/);
  let length = 0;
  let kept = '';
  for (const piece of words) {
    if (length + piece.length > cut) break;
    length += piece.length;
    kept += piece;
  }
  return kept.trim();
}
