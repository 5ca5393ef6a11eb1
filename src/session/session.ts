import { randomUUID } from 'node:crypto';
import { ProtocolError } from '../protocol/errors.js';
import type { WarningNotice } from '../protocol/errors.js';
import type { Logger } from '../core/logger.js';
import type { ProviderContext } from '../core/provider-context.js';
import type { Providers } from './provider-registry.js';
import type { AgentConfig, HistoryItem, ListenSettings, ThinkSettings } from '../protocol/agent-config.js';
import { cutText } from '../protocol/limits.js';
import type { ClientLimits } from '../protocol/limits.js';
import { normalizeListen, normalizeSpeak, normalizeThink } from '../protocol/normalize.js';
import type { ClientMessage } from '../protocol/parse.js';
import type { LatencyFigures, ServerEvent } from '../protocol/server-events.js';
import { LISTEN_SAMPLE_RATE } from '../listen/types.js';
import type { ListenProvider, ListenStream } from '../listen/types.js';
import type { ChatMessage, ThinkProvider } from '../think/types.js';
import { AgentResponse } from './agent-response.js';
import type { ResponseDeps, ResponseSource } from './agent-response.js';
import { allowed } from './agent-state.js';
import type { AgentStateName } from './agent-state.js';
import { Conversation } from './conversation.js';
import { FunctionCalls } from './function-calls.js';
import { outboundGuard } from '../providers/outbound.js';
import { checkSteeredUrls } from './steered-urls.js';
import { LatencyTracker } from './latency.js';
import { SpeakChain } from './speak-chain.js';
import { Utterance } from './utterance.js';
import type { AudioEncoder, PlayoutClockLike } from './utterance.js';
import { interruptingWords, looksUnfinished, resolveTurnTaking, voicedMs } from './turn-taking.js';
import type { TurnTaking } from './turn-taking.js';

/** The session's link to its client; the server encodes events for the client's dialect. */
export interface SessionIO {
  emit(event: ServerEvent): void;
  sendAudio(frame: Uint8Array): void;
  /** A fatal error: the server sends `Error` and closes the connection. */
  fatal(error: ProtocolError): void;
  /** The client asked to end the session (the Go SDK's `Close` message): close normally. */
  end(): void;
}

/** Audio plumbing built by the server for the session's formats (audio/). */
export interface SessionAudio {
  /**
   * Client bytes → PCM16 mono at the listen rate: at once, or a promise for a large compressed
   * message (src/audio/input-decoder.ts); results come in arrival order. Audio that does not
   * decode throws or rejects with ProtocolError USER_AUDIO_FORMAT.
   */
  decode(bytes: Uint8Array): Int16Array | Promise<Int16Array>;
  encoder: AudioEncoder;
  clock: PlayoutClockLike;
  close(): void;
}

/** Builds the decoder, encoder and playout clock for a session's audio formats. */
/** `messageMs`: the length of each agent audio message, when the line needs its own (a phone line's 20 ms frames). */
export type SessionAudioFactory = (config: AgentConfig, send: (frame: Uint8Array) => void, options?: { messageMs?: number }) => Promise<SessionAudio>;

export interface SessionDeps {
  config: AgentConfig;
  providers: Providers;
  io: SessionIO;
  audio: SessionAudio;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
  functionTimeoutMs: number;
  /** How far synthesis may run ahead of what the listener has heard (PARLEY_SYNTHESIS_AHEAD_MS). */
  synthesisAheadMs: number;
  /** Largest body a server-side function may answer with (PARLEY_MAX_FUNCTION_RESULT_BYTES). */
  maxFunctionResultBytes: number;
  limits: ClientLimits;
  /** The server's turn-taking defaults (PARLEY_* env); `agent.listen.provider` may override each. */
  turnTaking: TurnTaking;
  onTurn?(latency: { totalMs?: number }): void;
  /** PARLEY_LOG_TRANSCRIPTS: each ConversationText is logged too; otherwise a turn's log line holds no words. */
  logTranscripts?: boolean;
  /** Each change of the agent's state (src/session/agent-state.ts). */
  onAgentState?(state: AgentStateName): void;
  /** The client asked for `InterimTranscript` events (docs/protocol-decisions.md#interim-transcripts). */
  interimTranscripts?: boolean;
  /** LLM tokens a think provider reported using. */
  onTokens?(tokens: { inputTokens: number; outputTokens: number }): void;
}

/** A sound heard while the agent responds, not yet known to be an interruption (docs/turn-taking.md). */
interface Hold {
  /** Voiced audio since the listener reported the sound's start. */
  voicedMs: number;
  /** The listener's latest partial transcript of it. */
  text: string;
  /** Resumes the agent when no interrupting words came in time. */
  timer: NodeJS.Timeout;
}

/**
 * The agent's state (src/session/agent-state.ts); a sound that may interrupt is held only while
 * the agent responds.
 */
type AgentState = { name: 'idle' | 'user_speaking' } | { name: 'thinking' | 'speaking'; hold: Hold | undefined };

/** An open listener: its stream, the turn-taking rules of its settings, and whether its user is mid-utterance. */
interface ListenSlot {
  provider: ListenProvider;
  stream: ListenStream;
  rules: TurnTaking;
  speaking: boolean;
}

/** A reply thought before its turn ended, on the words heard so far (docs/turn-taking.md#eager-replies). */
interface Eager {
  text: string;
  messages: ChatMessage[];
  providers: readonly ThinkProvider[];
  response: AgentResponse;
}

type InjectBehavior = 'default' | 'queue' | 'interrupt';

/**
 * The conversation engine of one connection: turn-taking, barge-in, responses, function calls,
 * injections and live updates. Created once settings are valid; `start()` opens the providers.
 */
export class Session {
  private readonly conversation: Conversation;
  private readonly functionCalls: FunctionCalls;
  private readonly context: ProviderContext;
  private think: ThinkProvider[] = [];
  private thinkSettings: ThinkSettings;
  private speak: SpeakChain;
  /** The listener the user's audio goes to. */
  private listen: ListenSlot | undefined;
  /** An UpdateListen's listener, waiting for the utterance in flight to end on the old one. */
  private incomingListen: ListenSlot | undefined;
  private state: AgentState = { name: 'idle' };
  /** The reply holding the floor, or the last one (an interrupted reply stays until it has wound up). */
  private current: AgentResponse | undefined;
  private readonly queued: ResponseSource[] = [];
  private rules: TurnTaking;
  /** A user turn that plainly goes on, waiting unfinishedHoldMs for the rest (docs/turn-taking.md#cut-off-protection). */
  private unfinished: { text: string; latency: LatencyTracker; timer: NodeJS.Timeout | undefined } | undefined;
  private eager: Eager | undefined;
  /** The listener's latest interim transcript of the utterance in flight, and the silence after it (audio ms). */
  private interim = '';
  private silenceMs = 0;
  private closed = false;
  /** Replies finished so far, for the per-turn log line. */
  private turns = 0;
  /** Aborted at close: ends server-side function calls still running. */
  private readonly closing = new AbortController();
  /** Warnings raised while providers are built go out after SettingsApplied. */
  private heldWarnings: WarningNotice[] | undefined = [];

  constructor(private readonly deps: SessionDeps) {
    const { config } = deps;
    this.context = { env: deps.env, logger: deps.logger, warn: (notice) => this.warn(notice), agent: config, reportTokens: (tokens) => deps.onTokens?.(tokens) };
    this.rules = resolveTurnTaking(config.listen.provider, deps.turnTaking);
    this.thinkSettings = config.think[0] as ThinkSettings;
    this.conversation = new Conversation(this.thinkSettings.prompt, this.thinkSettings.contextLength, deps.limits.maxConversationChars);
    this.functionCalls = new FunctionCalls({
      emit: (event) => this.emit(event),
      warn: (notice) => this.warn(notice),
      timeoutMs: deps.functionTimeoutMs,
      maxResultBytes: deps.maxFunctionResultBytes,
      fetch: outboundGuard(deps.env).fetch,
      sessionClosed: this.closing.signal,
      completedLate: (calls) => {
        const item: HistoryItem = { kind: 'functions', calls };
        this.emit({ type: 'History', item });
        this.conversation.add(item);
      },
    });
    this.think = this.buildThink(config.think);
    this.speak = this.buildSpeak(config);
  }

  /** Opens the listener (throws FAILED_TO_START_LISTENING) and preloads the context. */
  async start(): Promise<void> {
    this.useListen(await this.openListen(this.deps.config.listen));
    for (const item of this.contextToPreload()) this.conversation.add(item);
  }

  /** Right after SettingsApplied: held warnings, then the greeting (V1) or EA replay of the trailing assistant message. */
  settingsApplied(): void {
    const held = this.heldWarnings ?? [];
    this.heldWarnings = undefined;
    for (const notice of held) this.warn(notice);
    const { config } = this.deps;
    const last = config.context.at(-1);
    if (config.replay && last?.kind === 'text' && last.role === 'assistant') {
      this.respond({ kind: 'text', text: last.content }, new LatencyTracker());
    } else if (config.greeting !== undefined) {
      this.respond({ kind: 'text', text: config.greeting }, new LatencyTracker());
    }
  }

  audio(bytes: Uint8Array): void {
    if (this.closed) return;
    let decoded: Int16Array | Promise<Int16Array>;
    try {
      decoded = this.deps.audio.decode(bytes);
    } catch (err) {
      this.audioFailed(err);
      return;
    }
    if (decoded instanceof Int16Array) this.decoded(decoded);
    else decoded.then((samples) => this.decoded(samples), (err: unknown) => this.audioFailed(err));
  }

  /** The agent's state now (src/session/agent-state.ts). */
  get agentState(): AgentStateName {
    return this.state.name;
  }

  /** A client's audio that does not decode ends the session (docs/protocol-decisions.md#compressed-audio). */
  private audioFailed(err: unknown): void {
    if (this.closed) return;
    if (err instanceof ProtocolError) {
      this.deps.io.fatal(err);
      return;
    }
    this.deps.logger.error({ err }, 'audio decoding failed');
    this.deps.io.fatal(new ProtocolError('INTERNAL_SERVER_ERROR', 'The server could not decode this audio'));
  }

  private decoded(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    this.listen?.stream.write(samples);
    // The frame's voiced time only matters while the user speaks or a sound holds the agent: most frames are neither.
    const watching = this.watchingSilence();
    if (!watching && this.heldSound() === undefined) return;
    const voiced = voicedMs(samples);
    if (watching) this.watchSilence(voiced, (samples.length * 1000) / LISTEN_SAMPLE_RATE);
    const hold = this.heldSound();
    if (hold === undefined) return;
    hold.voicedMs += voiced;
    this.checkHold();
  }

  /** Every client message after settings. */
  async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'Settings':
      case 'SettingsConfiguration':
        throw new ProtocolError('SETTINGS_ALREADY_APPLIED', 'Settings were already applied to this session; send them only once');
      case 'KeepAlive':
        return;
      case 'Close':
        this.deps.io.end();
        return;
      case 'UpdatePrompt': {
        const prompt = message.body.prompt ?? message.body.instructions;
        if (prompt === undefined) throw new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', 'UpdatePrompt: prompt: expected string');
        this.updatePrompt(prompt);
        return;
      }
      case 'UpdateInstructions':
        this.updatePrompt(message.body.instructions);
        return;
      case 'UpdateThink':
        this.updateThink(message.body.think);
        return;
      case 'UpdateSpeak':
        this.updateSpeak(message.body);
        return;
      case 'UpdateListen':
        await this.updateListen(message.body.listen);
        return;
      case 'InjectUserMessage':
        this.injectUser(this.injected(message.body.content, 'The injected user message'));
        return;
      case 'InjectAgentMessage': {
        const text = message.body.message ?? message.body.content;
        if (text === undefined) throw new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', 'InjectAgentMessage: message: expected string');
        this.injectAgent(this.injected(text, 'The injected agent message'), message.body.behavior ?? 'default');
        return;
      }
      case 'FunctionCallResponse': {
        const { id, name, content, function_call_id, output } = message.body;
        const callId = id ?? function_call_id;
        const answered = this.functionCalls.respond({
          ...(callId === undefined ? {} : { id: callId }),
          ...(name === undefined ? {} : { name }),
          content: content ?? output ?? '',
        });
        if (!answered) this.deps.logger.debug({ id: id ?? function_call_id }, 'function call response for no waiting call');
        return;
      }
      case 'ForceEndTurn':
        if (this.listen?.stream.forceEndTurn() !== true) {
          this.warn({ code: 'FORCE_END_TURN_UNSUPPORTED', description: 'ForceEndTurn needs a listen provider that supports it (Flux); ignored' });
        }
        return;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.queued.length = 0;
    clearTimeout(this.heldSound()?.timer);
    clearTimeout(this.unfinished?.timer);
    this.dropEager();
    this.current?.interrupt();
    this.current = undefined;
    for (const slot of [this.listen, this.incomingListen]) {
      slot?.stream.close();
      slot?.provider.close?.();
    }
    for (const provider of this.think) provider.close?.();
    this.speak.close();
    this.deps.audio.close();
  }

  /** Conversation so far, as the LLM will see it (for tests and diagnostics). */
  history(): readonly HistoryItem[] {
    return this.conversation.snapshot();
  }

  private emit(event: ServerEvent): void {
    if (this.closed) return;
    if (event.type === 'ConversationText' && this.deps.logTranscripts === true) this.deps.logger.info({ turn: this.turns + 1, role: event.role, content: event.content }, 'conversation text');
    if (event.type === 'History' && !this.deps.config.historyEvents) return;
    this.deps.io.emit(event);
  }

  private warn(notice: WarningNotice): void {
    if (this.heldWarnings !== undefined) {
      this.heldWarnings.push(notice);
      return;
    }
    this.emit({ type: 'Warning', ...notice });
  }

  private fail(error: ProtocolError): void {
    if (this.closed) return;
    this.deps.io.fatal(error);
  }

  /**
   * The one place the agent's state changes. Leaving a response's states ends a held sound's
   * wait; a transition outside the table is a bug, logged and taken all the same.
   */
  private enter(name: AgentStateName): void {
    const from = this.state;
    if (from.name === name) return;
    if (!allowed(from.name, name)) this.deps.logger.error({ from: from.name, to: name }, 'agent state: transition outside the table');
    if ('hold' in from && from.hold !== undefined) clearTimeout(from.hold.timer);
    this.state = name === 'thinking' || name === 'speaking' ? { name, hold: undefined } : { name };
    this.deps.onAgentState?.(name);
  }

  private heldSound(): Hold | undefined {
    return 'hold' in this.state ? this.state.hold : undefined;
  }

  private contextToPreload(): HistoryItem[] {
    const { config } = this.deps;
    const last = config.context.at(-1);
    // A replayed message is committed again as it is heard.
    const replayed = config.replay && last?.kind === 'text' && last.role === 'assistant';
    return replayed ? config.context.slice(0, -1) : config.context;
  }

  private buildThink(list: readonly ThinkSettings[]): ThinkProvider[] {
    checkSteeredUrls({ think: list }, outboundGuard(this.deps.env));
    const registry = this.deps.providers.think;
    return list.map((settings) => registry.lookup(settings)(settings, this.context));
  }

  /** Acknowledged at once, like Settings; a cut append is then reported. */
  private updatePrompt(text: string): void {
    const cut = this.conversation.appendPrompt(text);
    this.emit({ type: 'PromptUpdated' });
    if (cut !== undefined) this.warn(cut);
  }

  private buildSpeak(config: Pick<AgentConfig, 'speak'>): SpeakChain {
    checkSteeredUrls({ speak: config.speak }, outboundGuard(this.deps.env));
    const registry = this.deps.providers.speak;
    const voices = config.speak.map((settings) => registry.lookup(settings)(settings, this.context));
    return new SpeakChain(voices, (notice) => this.warn(notice));
  }

  /** A listener for these settings, its events tied to it: a retired listener's events are ignored. */
  private async openListen(settings: ListenSettings): Promise<ListenSlot> {
    const rules = resolveTurnTaking(settings.provider, this.deps.turnTaking);
    checkSteeredUrls({ listen: settings }, outboundGuard(this.deps.env));
    const provider = this.deps.providers.listen.lookup(settings)(settings, this.context);
    const slot: Partial<ListenSlot> & { speaking: boolean } = { provider, rules, speaking: false };
    const live = (): boolean => !this.closed && this.listen === slot;
    try {
      slot.stream = await provider.open({
        speechStarted: () => {
          if (!live()) return;
          slot.speaking = true;
          this.onSpeechStarted();
        },
        interim: (text) => {
          if (live()) this.onInterim(text);
        },
        endOfTurn: (text, speechEndedAt) => {
          if (!live()) return;
          slot.speaking = false;
          // An UpdateListen waited for this utterance to end on the listener it started on.
          this.takeIncomingListen();
          this.onEndOfTurn(text, speechEndedAt);
        },
        failed: (error) => {
          if (live() || (!this.closed && this.incomingListen === slot)) this.fail(new ProtocolError('ASR_CONNECTION_CLOSED', `${error.provider}: ${error.message}`));
        },
      });
    } catch (err) {
      provider.close?.();
      throw new ProtocolError('FAILED_TO_START_LISTENING', `${provider.label} could not start: ${(err as Error).message}`);
    }
    return slot as ListenSlot;
  }

  private useListen(slot: ListenSlot): void {
    const previous = this.listen;
    this.listen = slot;
    this.rules = slot.rules;
    this.interim = '';
    previous?.stream.close();
    previous?.provider.close?.();
  }

  private takeIncomingListen(): void {
    const incoming = this.incomingListen;
    if (incoming === undefined) return;
    this.incomingListen = undefined;
    this.useListen(incoming);
  }

  private onSpeechStarted(): void {
    // One sound is held once, should a listener report its start twice.
    if (this.heldSound() !== undefined) return;
    // The user goes on: a reply thought on what came before is thrown away.
    this.dropEager();
    this.interim = '';
    this.silenceMs = 0;
    // The user goes on with a turn that was waiting for its rest.
    clearTimeout(this.unfinished?.timer);
    if (this.unfinished !== undefined) this.unfinished.timer = undefined;
    const state = this.state;
    if ('hold' in state) {
      // The agent falls silent at the onset, so it is heard to stop at once; whether it stops for
      // good waits on the sound's length and words (docs/turn-taking.md#false-interruptions).
      this.deps.audio.clock.pause();
      state.hold = { voicedMs: 0, text: '', timer: setTimeout(() => this.deps.audio.clock.resume(), this.rules.falseInterruptionMs) };
      return;
    }
    this.enter('user_speaking');
    this.emit({ type: 'UserStartedSpeaking' });
    this.bargeIn();
  }

  private onInterim(text: string): void {
    if (this.eager !== undefined && text.trim() !== this.eager.text) this.dropEager();
    this.interim = text.trim();
    // Only once the user holds the floor: a sound held while the agent speaks may be no turn at all.
    if (this.deps.interimTranscripts === true && this.state.name === 'user_speaking' && this.interim !== '') {
      this.emit({ type: 'InterimTranscript', role: 'user', content: this.interim });
    }
    const hold = this.heldSound();
    if (hold === undefined) return;
    hold.text = text;
    this.checkHold();
  }

  /**
   * A sound long enough, with enough words that are not backchannels, interrupts the agent; so
   * does one that goes on past the sustained length, words or not (docs/turn-taking.md).
   */
  private interrupts(hold: Hold, text: string): boolean {
    const { minInterruptionMs, minInterruptionWords, sustainedInterruptionMs, backchannels } = this.rules;
    if (sustainedInterruptionMs > 0 && hold.voicedMs >= sustainedInterruptionMs) return true;
    return hold.voicedMs >= minInterruptionMs && interruptingWords(text, backchannels) >= minInterruptionWords;
  }

  private checkHold(): void {
    const hold = this.heldSound();
    if (hold !== undefined && this.interrupts(hold, hold.text)) this.endHold(true);
  }

  /**
   * An interruption stops the agent for good, and only then does the client hear that the user
   * speaks; a false one lets the agent go on where it paused. Either way frames flow again
   * (after the interrupt, which drops those of the reply).
   */
  private endHold(interrupted: boolean): void {
    const state = this.state;
    if (!('hold' in state) || state.hold === undefined) return;
    clearTimeout(state.hold.timer);
    state.hold = undefined;
    if (interrupted) {
      this.enter('user_speaking');
      this.emit({ type: 'UserStartedSpeaking' });
      this.bargeIn();
    }
    this.deps.audio.clock.resume();
  }

  /** The user takes the floor: the agent stops at once and queued agent speech is dropped. */
  private bargeIn(): void {
    this.queued.length = 0;
    this.current?.interrupt();
  }

  private onEndOfTurn(text: string, speechEndedAt: number): void {
    const hold = this.heldSound();
    if (hold !== undefined) {
      // A false interruption or a backchannel while the agent responds is no turn: no reply, no
      // History, and no NO_SPEECH_RECOGNIZED, as the client never saw UserStartedSpeaking.
      const noTurn = !this.interrupts(hold, text);
      this.endHold(!noTurn);
      if (noTurn) return;
    }
    const pending = this.unfinished;
    this.unfinished = undefined;
    clearTimeout(pending?.timer);
    const content = [pending?.text ?? '', text.trim()].filter((part) => part !== '').join(' ');
    // Latency counts from the end of this speech (of its last part, for a turn that went on).
    const latency = new LatencyTracker(speechEndedAt);
    if (content !== '' && this.rules.unfinishedHoldMs > 0 && looksUnfinished(content)) {
      this.dropEager();
      this.unfinished = { text: content, latency, timer: setTimeout(() => this.finishUnfinished(), this.rules.unfinishedHoldMs) };
      return;
    }
    if (content !== '') return this.userSaid(content, latency);
    this.dropEager();
    if (this.state.name === 'user_speaking') this.enter('idle');
    // The turn is over without words: no reply comes, and the client must not wait for one
    // (docs/protocol-decisions.md#an-utterance-without-words).
    this.warn({
      code: 'NO_SPEECH_RECOGNIZED',
      description: 'The user spoke, but no words were recognized in it; there is no reply to this turn and the agent is listening again',
    });
  }

  /** The rest of an unfinished turn did not come in time: it is a turn as it is. */
  private finishUnfinished(): void {
    const pending = this.unfinished;
    if (pending === undefined) return;
    this.unfinished = undefined;
    clearTimeout(pending.timer);
    this.userSaid(pending.text, pending.latency);
  }

  private userSaid(content: string, latency: LatencyTracker): void {
    // The floor passes to the user: the reply still in flight commits what was heard first.
    this.bargeIn();
    this.emit({ type: 'ConversationText', role: 'user', content });
    const item: HistoryItem = { kind: 'text', role: 'user', content };
    this.emit({ type: 'History', item });
    const eager = this.eager;
    this.eager = undefined;
    // The eager reply stands if it was thought on this very request: the same words after the same history, to the same LLM.
    const confirmed = eager !== undefined && eager.text === content && eager.providers === this.think && sameMessages(eager.messages, this.conversation.toMessages(item));
    this.conversation.add(item);
    if (eager === undefined) return this.respond(this.thinkSource(), latency);
    if (!confirmed) {
      eager.response.interrupt();
      return this.respond(this.thinkSource(), latency);
    }
    this.queued.length = 0;
    this.adopt(eager.response, latency);
    eager.response.confirm(latency);
  }

  private thinkSource(messages = this.conversation.toMessages()): Extract<ResponseSource, { kind: 'think' }> {
    return { kind: 'think', providers: this.think, messages, functions: this.thinkSettings.functions };
  }

  private responseDeps(latency: LatencyTracker, held: boolean): ResponseDeps {
    const deps: ResponseDeps = {
      emit: (event) => this.emit(event),
      warn: (notice) => this.warn(notice),
      fail: (error) => this.fail(error),
      openUtterance: (callbacks) => new Utterance(this.speak, this.deps.audio.encoder, this.deps.audio.clock, callbacks, this.deps.synthesisAheadMs),
      functionCalls: this.functionCalls,
      latency,
      held,
      commit: (items) => {
        for (const item of items) this.conversation.add(item);
      },
      ...(this.rules.filler !== '' && this.rules.fillerAfterMs > 0 ? { filler: { text: this.rules.filler, afterMs: this.rules.fillerAfterMs } } : {}),
    };
    return deps;
  }

  /** Starts a response, replacing the current one (whose heard part is committed first). */
  private respond(source: ResponseSource, latency: LatencyTracker): void {
    if (this.closed) return;
    this.dropEager();
    this.current?.interrupt();
    this.adopt(new AgentResponse(this.responseDeps(latency, false), source), latency);
  }

  /** `response` takes the floor: the agent thinks, speaks at its first audio, and is idle (or the next queued message starts) when it ends. */
  private adopt(response: AgentResponse, latency: LatencyTracker): void {
    this.current = response;
    this.enter('thinking');
    response.onSpeaking(() => {
      if (this.current === response && this.state.name === 'thinking') this.enter('speaking');
    });
    void response.done.then(() => {
      const figures = latency.report();
      this.deps.onTurn?.(figures);
      this.logTurn(figures, response);
      if (this.current !== response) return;
      this.current = undefined;
      if (this.state.name !== 'thinking' && this.state.name !== 'speaking') return;
      if (this.heldSound() !== undefined) {
        // The reply ended of itself while a sound was held: the sound is an ordinary turn.
        this.deps.audio.clock.resume();
        this.enter('user_speaking');
        this.emit({ type: 'UserStartedSpeaking' });
        return;
      }
      this.enter('idle');
      const next = this.queued.shift();
      if (next !== undefined) this.respond(next, new LatencyTracker());
    });
  }

  /** One info line per reply, for the operator: its figures (ms), never the words unless PARLEY_LOG_TRANSCRIPTS asks (docs/security.md#logs). */
  private logTurn(figures: LatencyFigures, response: AgentResponse): void {
    this.turns++;
    const ms = (value: number | undefined): number | undefined => (value === undefined ? undefined : Math.round(value));
    this.deps.logger.info(
      {
        turn: this.turns,
        answers: figures.sttMs === undefined ? 'agent' : 'user',
        total_ms: ms(figures.totalMs),
        stt_ms: ms(figures.sttMs),
        ttt_ms: ms(figures.tttTextMs ?? figures.tttToolMs ?? figures.tttTokenMs),
        tts_ms: ms(figures.ttsMs),
        ...(response.interrupted ? { interrupted: true } : {}),
        ...(figures.totalMs === undefined ? { spoke: false } : {}),
      },
      'turn',
    );
  }

  /** Whether watchSilence has anything to count: the user is speaking. */
  private watchingSilence(): boolean {
    return this.state.name === 'user_speaking' && this.listen?.speaking === true;
  }

  /**
   * Counts the silence after the user's words, in audio time, and starts an eager reply once it
   * is long enough; a voiced frame means the user goes on, and throws the eager reply away.
   * Only while watchingSilence().
   */
  private watchSilence(voiced: number, ms: number): void {
    if (voiced > 0) {
      this.silenceMs = 0;
      this.dropEager();
      return;
    }
    this.silenceMs += ms;
    const { eagerReplyMs, unfinishedHoldMs } = this.rules;
    if (eagerReplyMs === 0 || this.silenceMs < eagerReplyMs || this.eager !== undefined || this.interim === '') return;
    // A turn that plainly goes on is waited for anyway (cut-off protection), and so is a pending one.
    if (this.unfinished !== undefined || (unfinishedHoldMs > 0 && looksUnfinished(this.interim))) return;
    const item: HistoryItem = { kind: 'text', role: 'user', content: this.interim };
    const source = this.thinkSource(this.conversation.toMessages(item));
    this.eager = { text: this.interim, messages: source.messages, providers: this.think, response: new AgentResponse(this.responseDeps(new LatencyTracker(), true), source) };
  }

  private dropEager(): void {
    const eager = this.eager;
    this.eager = undefined;
    eager?.response.interrupt();
  }

  /** An injected text within its limit (docs/protocol-decisions.md#message-limits); a cut is reported. */
  private injected(text: string, what: string): string {
    const cut = cutText(text, this.deps.limits.maxInjectChars, what);
    if (cut.warning !== undefined) this.warn(cut.warning);
    return cut.text;
  }

  private injectAgent(text: string, behavior: InjectBehavior): void {
    const refuse = (code: 'INJECT_AGENT_MESSAGE_DURING_USER_SPEECH' | 'INJECT_AGENT_MESSAGE_DURING_AGENT_SPEECH', why: string): void => {
      this.emit({ type: 'InjectionRefused', message: why });
      this.warn({ code, description: why });
    };
    const responding = this.state.name === 'thinking' || this.state.name === 'speaking';
    if (behavior !== 'interrupt' && this.state.name === 'user_speaking') {
      return refuse('INJECT_AGENT_MESSAGE_DURING_USER_SPEECH', 'The user is speaking; the agent message was not injected');
    }
    const source: ResponseSource = { kind: 'text', text };
    if (behavior === 'default' && responding) {
      return refuse('INJECT_AGENT_MESSAGE_DURING_AGENT_SPEECH', 'The agent is responding; the agent message was not injected');
    }
    if (behavior === 'queue' && responding) {
      const max = this.deps.limits.maxQueuedInjections;
      if (this.queued.length >= max) {
        return refuse('INJECT_AGENT_MESSAGE_DURING_AGENT_SPEECH', `The agent is responding and ${max} agent messages are already queued; the agent message was not injected`);
      }
      this.queued.push(source);
      return;
    }
    this.queued.length = 0;
    this.respond(source, new LatencyTracker());
  }

  /**
   * Calls one of the agent's server-side functions for the user, as if the LLM had called it: the
   * user takes the floor, the call runs, and the LLM replies to its result (a phone keypad entry
   * with `agent.dtmf`, docs/telephony.md#dtmf).
   */
  callFunction(name: string, args: string): void {
    if (this.closed) return;
    this.finishUnfinished();
    this.bargeIn();
    this.respond({ ...this.thinkSource(), calls: [{ id: `call_${randomUUID()}`, name, arguments: args }] }, new LatencyTracker());
  }

  private injectUser(content: string): void {
    if (content.trim() === '') return;
    // A turn still waiting for its rest is said first: turns enter history as they happened.
    this.finishUnfinished();
    this.userSaid(content.trim(), new LatencyTracker());
  }

  private updateThink(raw: Parameters<typeof normalizeThink>[0]): void {
    const { value, warnings } = normalizeThink(raw, 'think', this.deps.limits.maxFunctions);
    const providers = this.buildThink(value);
    const previous = this.think;
    this.retireAfterReply(() => {
      for (const provider of previous) provider.close?.();
    });
    this.think = providers;
    this.thinkSettings = value[0] as ThinkSettings;
    this.conversation.replaceSettings(this.thinkSettings.prompt, this.thinkSettings.contextLength);
    for (const warning of warnings) this.warn(warning);
    this.emit({ type: 'ThinkUpdated' });
  }

  private updateSpeak(body: { speak?: Parameters<typeof normalizeSpeak>[0]; model?: string }): void {
    const speak = body.speak !== undefined ? normalizeSpeak(body.speak, 'speak') : body.model !== undefined ? [{ provider: { type: 'deepgram', model: body.model } }] : undefined;
    if (speak === undefined) throw new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', 'UpdateSpeak: speak: expected an object with a provider');
    const previous = this.speak;
    this.speak = this.buildSpeak({ speak });
    this.retireAfterReply(() => previous.close());
    this.emit({ type: 'SpeakUpdated' });
  }

  /**
   * One rule for swapping a stage (UpdateThink, UpdateSpeak, UpdateListen): what is in flight
   * finishes with the stage it started with, which is closed once that is done; what starts next
   * uses the new one. For think and speak what is in flight is the reply, tool rounds included
   * (and an eager reply, which is thrown away: it was thought by the old LLM).
   */
  private retireAfterReply(close: () => void): void {
    this.dropEager();
    void (this.current?.done ?? Promise.resolve()).then(close);
  }

  /**
   * For listen, what is in flight is the user's utterance: it ends on the listener that heard it
   * start, and the new listener gets the audio from then on.
   */
  private async updateListen(raw: Parameters<typeof normalizeListen>[0]): Promise<void> {
    const slot = await this.openListen(normalizeListen(raw));
    if (this.closed) {
      slot.stream.close();
      slot.provider.close?.();
      return;
    }
    const waiting = this.incomingListen;
    waiting?.stream.close();
    waiting?.provider.close?.();
    this.incomingListen = slot;
    if (this.listen?.speaking !== true) this.takeIncomingListen();
    this.emit({ type: 'ListenUpdated' });
  }
}

function sameMessages(a: readonly ChatMessage[], b: readonly ChatMessage[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
