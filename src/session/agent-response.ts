import { ProtocolError } from '../protocol/errors.js';
import type { WarningNotice } from '../protocol/errors.js';
import type { FunctionDefinition, HistoryItem } from '../protocol/agent-config.js';
import type { ServerEvent } from '../protocol/server-events.js';
import type { ChatMessage, ThinkEvent, ThinkProvider, ToolCall, ToolDefinition } from '../think/types.js';
import { functionCallMessages } from './conversation.js';
import type { FunctionCalls } from './function-calls.js';
import type { LatencyTracker } from './latency.js';
import { SentenceSplitter } from './sentence-splitter.js';
import type { Utterance, UtteranceCallbacks } from './utterance.js';
import { thinkWithFallback } from './think-chain.js';

/** Tool rounds (LLM → tools → LLM) allowed in one response before tools are withheld. */
export const MAX_TOOL_ROUNDS = 5;

export interface ResponseDeps {
  emit(event: ServerEvent): void;
  warn(notice: WarningNotice): void;
  fail(error: ProtocolError): void;
  openUtterance(callbacks: UtteranceCallbacks): Utterance;
  functionCalls: FunctionCalls;
  latency: LatencyTracker;
  /**
   * An eager reply (docs/turn-taking.md#eager-replies): it thinks at once, but says nothing,
   * emits nothing and runs no function until `confirm()`; `interrupt()` throws it away.
   */
  held?: boolean;
  /** Adds what the user heard (and completed calls) to the conversation, in order. */
  commit(items: HistoryItem[]): void;
  /** Said once when a function call round runs past `afterMs` (docs/turn-taking.md#no-dead-air-during-slow-tools). */
  filler?: { text: string; afterMs: number };
}

/** Where a response's words come from: the LLM, or fixed text (greeting, InjectAgentMessage). */
export type ResponseSource =
  | {
      kind: 'think';
      providers: readonly ThinkProvider[];
      messages: ChatMessage[];
      functions: readonly FunctionDefinition[];
      /** Calls the reply starts with, run before the LLM is asked (a phone keypad entry's function, docs/telephony.md#dtmf). */
      calls?: readonly ToolCall[];
    }
  | { kind: 'text'; text: string };

/** `sentence`: the utterance's number for it, by which its heard text comes back (none if it was never queued). */
type Entry = { kind: 'sentence'; text: string; sentence: number | undefined; heard: string } | { kind: 'functions'; item: HistoryItem };

/**
 * One agent reply: think (with tool rounds), speak sentence by sentence, and at the end commit to
 * history exactly what was heard. `interrupt()` is barge-in: everything stops at once.
 */
export class AgentResponse {
  private readonly abort = new AbortController();
  private readonly entries: Entry[] = [];
  private utterance: Utterance | undefined;
  private committed = false;
  private fillerSaid = false;
  private wasInterrupted = false;
  private latency: LatencyTracker;
  private speaking: (() => void) | undefined;
  /** Output waiting for confirm() while the reply is held: sentences, events, and the kinds of tokens seen. */
  private held: { sentences: string[]; events: ServerEvent[]; tokens: Set<'text' | 'tool' | 'thinking'>; release: Promise<void>; open: () => void } | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly deps: ResponseDeps,
    source: ResponseSource,
  ) {
    this.latency = deps.latency;
    if (deps.held === true) {
      let open = (): void => undefined;
      const release = new Promise<void>((resolve) => (open = resolve));
      this.held = { sentences: [], events: [], tokens: new Set(), release, open };
    }
    this.done = this.run(source);
  }

  /**
   * The turn an eager reply was thought for is confirmed: what it held goes out now, in order,
   * and its latency is measured on the turn's own tracker (from the end of the turn).
   */
  confirm(latency: LatencyTracker): void {
    const held = this.held;
    if (held === undefined || this.abort.signal.aborted) return;
    this.held = undefined;
    this.latency = latency;
    for (const kind of held.tokens) latency.token(kind);
    for (const event of held.events) this.deps.emit(event);
    for (const sentence of held.sentences) this.say(sentence);
    held.open();
  }

  /** `callback` runs when the reply's first audio goes out. */
  onSpeaking(callback: () => void): void {
    this.speaking = callback;
  }

  /** Resolves at once, or when a held reply is confirmed or thrown away. */
  private released(): Promise<void> {
    return this.held?.release ?? Promise.resolve();
  }

  get finished(): boolean {
    return this.abort.signal.aborted;
  }

  /** Barge-in or a newer response cut it short. */
  get interrupted(): boolean {
    return this.wasInterrupted;
  }

  /**
   * Barge-in or a new response: stops at once and commits what was heard before returning, so
   * whatever the caller adds next (the user's turn, the next LLM request) comes after it
   * (docs/protocol-decisions.md#history-holds-what-was-heard).
   */
  interrupt(): void {
    if (this.abort.signal.aborted) return;
    this.wasInterrupted = true;
    this.abort.abort();
    this.utterance?.interrupt();
    // A held reply announced no call; the client's pending ones belong to another reply.
    if (this.held === undefined) this.deps.functionCalls.cancelPending();
    this.held?.open();
    this.commit();
  }

  private async run(source: ResponseSource): Promise<void> {
    const utterance = this.deps.openUtterance(this.callbacks());
    this.utterance = utterance;
    try {
      if (source.kind === 'text') {
        for (const sentence of new SentenceSplitter().push(`${source.text}\n`)) this.say(sentence);
      } else {
        await this.think(source);
      }
      await this.released();
      const outcome = await utterance.end();
      if (outcome === 'done' && utterance.started) this.deps.emit({ type: 'AgentAudioDone' });
    } catch (err) {
      if (!this.abort.signal.aborted) {
        utterance.interrupt();
        this.deps.fail(err instanceof ProtocolError ? err : new ProtocolError('INTERNAL_SERVER_ERROR', String(err)));
      }
    } finally {
      this.abort.abort();
      this.commit();
      if (this.latency.hasAudio) this.deps.emit({ type: 'LatencyReport', latency: this.latency.report() });
    }
  }

  private say(sentence: string): void {
    if (this.held !== undefined) {
      this.held.sentences.push(sentence);
      return;
    }
    this.latency.sentence();
    this.entries.push({ kind: 'sentence', text: sentence, sentence: this.utterance?.say(sentence), heard: '' });
  }

  private async think(source: Extract<ResponseSource, { kind: 'think' }>): Promise<void> {
    const signal = this.abort.signal;
    const tools: ToolDefinition[] = source.functions.map(({ name, description, parameters }) => ({ name, description, parameters }));
    let messages = source.messages;
    for (let round = 0; !signal.aborted; round++) {
      const splitter = new SentenceSplitter();
      const calls: ToolCall[] = round === 0 ? [...(source.calls ?? [])] : [];
      let text = '';
      const request = { messages, tools: round < MAX_TOOL_ROUNDS ? tools : [], signal };
      // A first round with calls already made runs them without asking the LLM.
      const events: AsyncIterable<ThinkEvent> | ThinkEvent[] = calls.length > 0 ? [] : thinkWithFallback(source.providers, request, (notice) => this.deps.warn(notice));
      for await (const event of events) {
        this.token(event.type === 'tool_call' ? 'tool' : event.type);
        if (event.type === 'text') {
          text += event.text;
          for (const sentence of splitter.push(event.text)) this.say(sentence);
        } else if (event.type === 'thinking') {
          this.emit({ type: 'AgentThinking', content: event.text });
        } else {
          calls.push(event.call);
        }
      }
      for (const sentence of splitter.flush()) this.say(sentence);
      if (calls.length === 0 || signal.aborted) return;
      // A held reply calls no function: the endpoint may act on it, and the turn may never come.
      await this.released();
      if (signal.aborted) return;
      const records = await this.withFiller(this.deps.functionCalls.run(calls, source.functions, signal));
      if (signal.aborted) return;
      const item: HistoryItem = { kind: 'functions', calls: records };
      this.entries.push({ kind: 'functions', item });
      this.deps.emit({ type: 'History', item });
      const [assistant, ...results] = functionCallMessages(records);
      messages = [...messages, { ...(assistant as Extract<ChatMessage, { role: 'assistant' }>), content: text }, ...results];
    }
  }

  private token(kind: 'text' | 'tool' | 'thinking'): void {
    if (this.held !== undefined) this.held.tokens.add(kind);
    else this.latency.token(kind);
  }

  private emit(event: ServerEvent): void {
    if (this.held !== undefined) this.held.events.push(event);
    else this.deps.emit(event);
  }

  /**
   * Waits for a function call round; past the filler's delay the filler is said, once per reply,
   * as an ordinary sentence: it is heard, so it enters history like the rest.
   */
  private async withFiller<T>(round: Promise<T>): Promise<T> {
    const filler = this.deps.filler;
    if (filler === undefined || this.fillerSaid) return round;
    const timer = setTimeout(() => {
      if (this.abort.signal.aborted) return;
      this.fillerSaid = true;
      this.say(filler.text);
    }, filler.afterMs);
    try {
      return await round;
    } finally {
      clearTimeout(timer);
    }
  }

  private callbacks(): UtteranceCallbacks {
    return {
      sentenceStarts: (text) => this.deps.emit({ type: 'ConversationText', role: 'assistant', content: text }),
      firstAudio: () => {
        this.latency.audio();
        this.speaking?.();
        this.deps.emit({ type: 'AgentStartedSpeaking', ...this.latency.startedSpeaking() });
      },
      heard: (text, sentence) => {
        // By number, not position: a sentence that made no audio is never heard, and must not shift the rest.
        const entry = this.entries.find((e): e is Extract<Entry, { kind: 'sentence' }> => e.kind === 'sentence' && e.sentence === sentence);
        if (entry !== undefined) entry.heard = text;
        this.deps.emit({ type: 'History', item: { kind: 'text', role: 'assistant', content: text } });
      },
      failed: (error) => {
        this.abort.abort();
        this.deps.functionCalls.cancelPending();
        this.deps.fail(error);
      },
    };
  }

  private commit(): void {
    if (this.committed) return;
    this.committed = true;
    this.deps.commit(this.historyItems());
  }

  /** Heard sentences joined per stretch of speech, with completed function calls in between. */
  private historyItems(): HistoryItem[] {
    const items: HistoryItem[] = [];
    let spoken = '';
    const flush = (): void => {
      if (spoken !== '') items.push({ kind: 'text', role: 'assistant', content: spoken });
      spoken = '';
    };
    for (const entry of this.entries) {
      if (entry.kind === 'functions') {
        flush();
        items.push(entry.item);
      } else if (entry.heard !== '') {
        spoken = spoken === '' ? entry.heard : `${spoken} ${entry.heard}`;
      }
    }
    flush();
    return items;
  }
}
