import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { WebSocket } from 'ws';
import type { Logger } from '../core/logger.js';
import type { AgentConfig } from '../protocol/agent-config.js';
import { ProtocolError } from '../protocol/errors.js';
import { nestsDeeperThan } from '../protocol/limits.js';
import type { ClientLimits } from '../protocol/limits.js';
import { normalizeV1Settings } from '../protocol/normalize.js';
import type { ServerEvent } from '../protocol/server-events.js';
import type { Providers } from '../session/provider-registry.js';
import { Session } from '../session/session.js';
import type { SessionAudio, SessionAudioFactory } from '../session/session.js';
import type { TurnTaking } from '../session/turn-taking.js';
import { asksForRecording } from '../recording/recorder.js';
import type { Recordings, SessionRecorder } from '../recording/recorder.js';
import type { AgentDirectory, StoredAgents } from './agents.js';
import type { LineFormat, PhoneDialect, PhoneEvent } from './dialects.js';
import { DtmfCollector, dtmfMessage, isDtmfDigit } from './dtmf.js';
import { MarkClock } from './mark-clock.js';

/** Largest text frame a media stream may send; its messages carry 20 ms of audio (docs/telephony.md#refusals-and-limits). */
const MAX_PHONE_FRAME_BYTES = 64 * 1024;
/** Caller audio kept while the agent starts (its listener opening); about two minutes of 8 kHz G.711. */
const MAX_EARLY_AUDIO_BYTES = 1024 * 1024;
/** Length of one outgoing media message's audio. */
const FRAME_MS = 20;
/** G.711 silence, to fill an utterance's last frame to full length. */
const SILENCE_BYTE: Record<'mulaw' | 'alaw', number> = { mulaw: 0xff, alaw: 0xd5 };
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/**
 * Keypad keys a stream may send in one second. A keypad tone and the pause after it last at
 * least 40 ms each, about 12 keys a second; this leaves room for a carrier's jitter.
 */
export const MAX_DTMF_PER_SECOND = 20;

/** Close codes of a phone stream (docs/telephony.md#refusals-and-limits); 4401 and 4429 mirror HTTP 401 and 429. */
const CLOSE = { normal: 1000, refused: 1008, failed: 1011, unauthorized: 4401, tooMany: 4429 } as const;

/**
 * What a call uses, for its usage record (the server's UsageMeter): the think tier, audio in
 * as decoded samples, audio out as bytes sent, turns and LLM tokens.
 */
export interface CallMeter {
  configured(config: AgentConfig): void;
  measure(audio: SessionAudio): SessionAudio;
  audioOut(bytes: number): void;
  turn(): void;
  tokens(input: number, output: number): void;
}

/**
 * The server's answer when a call starts (docs/telephony.md#limits-and-usage): refused (no valid
 * key: 401; the project's concurrency limit: 429), or admitted, holding one of its project's
 * slots until `ended`, with the project's stored agents and a meter when the server has a store.
 */
export type CallAdmission =
  | { ok: true; agents?: StoredAgents; meter?: CallMeter; ended(callId: string): void }
  | { ok: false; status: 401 | 429; description: string };

export interface PhoneCallOptions {
  dialect: PhoneDialect;
  agents: AgentDirectory;
  providers: Providers;
  createAudio: SessionAudioFactory;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
  limits: ClientLimits;
  functionTimeoutMs: number;
  synthesisAheadMs: number;
  maxFunctionResultBytes: number;
  turnTaking: TurnTaking;
  /** PARLEY_LOG_TRANSCRIPTS (docs/security.md#logs). */
  logTranscripts: boolean;
  idleTimeoutMs: number;
  maxSessionMs: number;
  maxClientBufferBytes: number;
  /**
   * Admits the call at its start, with the key its parameters offer (`token`), used only when
   * the upgrade offered none: carriers often cannot send one any other way.
   */
  admit: (token: string | undefined) => Promise<CallAdmission>;
  /** A call refused at its start, by the HTTP status its close code mirrors (for metrics). */
  onRefused?: (status: 401 | 429) => void;
  recordings: Recordings | undefined;
  /** The upgrade URL asked for a recording (`record=true`). */
  recordRequested: boolean;
  /** The path the call came in on, for logs and recordings. */
  path: string;
  onTurn?: (latency: { totalMs?: number }) => void;
}

type State = 'waiting' | 'starting' | 'active' | 'closed';

/**
 * One phone call's media stream, bridged to a Session: the carrier's messages become the
 * session's audio and user messages, and the session's audio goes back as paced media messages
 * with marks. What the caller heard comes from the marks the line echoes (MarkClock), so the
 * history after a barge-in holds what was played on the line.
 */
export class PhoneCall {
  readonly id = randomUUID();
  private state: State = 'waiting';
  private session: Session | undefined;
  private clock: MarkClock | undefined;
  private recorder: SessionRecorder | undefined;
  /** Held from an admitted start until the call ends: its project slot and usage record. */
  private admission: Extract<CallAdmission, { ok: true }> | undefined;
  /** The function a keypad entry calls, when the agent names one (docs/telephony.md#dtmf). */
  private dtmfFunction: string | undefined;
  private streamId = '';
  private frameBytes = 0;
  private silence = SILENCE_BYTE.mulaw;
  /** Caller audio that arrived while the agent started, with when it arrived. */
  private readonly early: { audio: { bytes: Uint8Array; at: number }[]; bytes: number } = { audio: [], bytes: 0 };
  private readonly dtmf: DtmfCollector;
  /** When the latest keys arrived, at most MAX_DTMF_PER_SECOND + 1 of them. */
  private readonly keyTimes: number[] = [];
  private readonly logger: Logger;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly lengthTimer: NodeJS.Timeout;
  /**
   * A stream is admitted at its start message (docs/telephony.md#limits-and-usage): until then it
   * holds no slot and may have shown no key, so it gets the idle time to send one, media or not.
   */
  private readonly startTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: PhoneCallOptions,
    private readonly onClosed: (call: PhoneCall) => void,
  ) {
    this.logger = options.logger.child({ session: this.id, carrier: options.dialect.name });
    this.dtmf = new DtmfCollector((digits) => this.entered(digits));
    socket.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    socket.on('close', (code) => {
      this.logger.info({ code }, 'phone stream closed');
      this.dispose();
    });
    socket.on('error', (err) => this.logger.warn({ err: err.message }, 'phone socket error'));
    this.resetIdleTimer();
    this.startTimer = setTimeout(
      () => this.refuse(new ProtocolError('CLIENT_MESSAGE_TIMEOUT', `No start message within ${options.idleTimeoutMs} ms of the stream opening`)),
      options.idleTimeoutMs,
    );
    this.lengthTimer = setTimeout(
      () => this.refuse(new ProtocolError('MAXIMUM_SESSION_LENGTH_REACHED', `The call reached the maximum session length of ${Math.round(options.maxSessionMs / 1000)} s`), CLOSE.normal),
      options.maxSessionMs,
    );
  }

  /** Drain: the server is going away. */
  goAway(): void {
    this.refuse(new ProtocolError('SERVER_GOING_AWAY', 'The server is shutting down'), CLOSE.normal);
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    this.resetIdleTimer();
    let event: PhoneEvent;
    try {
      event = this.options.dialect.parse(this.readJson(data, isBinary));
    } catch (err) {
      this.fail(err);
      return;
    }
    this.onEvent(event);
  }

  /** A text frame's JSON, within the bounds every client frame is held to. */
  private readJson(data: Buffer, isBinary: boolean): unknown {
    const name = this.options.dialect.name;
    if (isBinary) throw new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', `Binary frames are not part of ${name}'s media stream protocol; send JSON text messages`);
    if (data.byteLength > MAX_PHONE_FRAME_BYTES) {
      throw new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', `A message of ${data.byteLength} bytes exceeds the limit of ${MAX_PHONE_FRAME_BYTES} bytes`);
    }
    if (!isUtf8(data)) throw new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', 'Text message is not valid UTF-8');
    const text = data.toString('utf8');
    if (nestsDeeperThan(text, this.options.limits.maxJsonDepth)) {
      throw new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', `The message nests more than ${this.options.limits.maxJsonDepth} levels deep`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', `The message is not valid JSON: ${(err as Error).message}`);
    }
  }

  private onEvent(event: PhoneEvent): void {
    switch (event.kind) {
      case 'start':
        if (this.state !== 'waiting') {
          this.refuse(new ProtocolError('SETTINGS_ALREADY_APPLIED', 'A second start message arrived for this stream'));
          return;
        }
        this.state = 'starting';
        clearTimeout(this.startTimer);
        void this.start(event).catch((err: unknown) => this.fail(err));
        return;
      case 'media':
        if (event.inbound) this.onMedia(event.payload);
        return;
      case 'mark':
        this.clock?.acknowledge(event.name);
        return;
      case 'dtmf':
        this.onDtmf(event.digit);
        return;
      case 'stop':
        this.logger.info('the carrier stopped the stream');
        this.close(CLOSE.normal, 'stream stopped');
        return;
      case 'error':
        this.logger.warn({ description: event.description }, 'the carrier reports a stream error');
        return;
      case 'connected':
      case 'other':
        return;
    }
  }

  private onMedia(payload: string): void {
    if (!BASE64.test(payload) || payload.length % 4 !== 0) {
      this.refuse(new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', 'media.payload is not base64'));
      return;
    }
    const bytes = Buffer.from(payload, 'base64');
    if (bytes.length === 0) return;
    const audio = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.state === 'active') {
      this.session?.audio(audio);
      return;
    }
    // Before start there is no format to read it by; while starting it waits for the listener.
    if (this.state !== 'starting') return;
    this.early.bytes += audio.length;
    if (this.early.bytes > MAX_EARLY_AUDIO_BYTES) {
      this.refuse(new ProtocolError('FAILED_TO_START_LISTENING', 'The agent did not start in time to hear the caller'));
      return;
    }
    this.early.audio.push({ bytes: audio, at: performance.now() });
  }

  private onDtmf(digit: string): void {
    if (!isDtmfDigit(digit)) {
      this.refuse(new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', 'dtmf.digit is not a keypad key (0-9, *, #, A-D)'));
      return;
    }
    // Each entry can cost an LLM request or a function's HTTP call: keys come no faster than a line carries them.
    const now = performance.now();
    this.keyTimes.push(now);
    if (this.keyTimes.length > MAX_DTMF_PER_SECOND && now - (this.keyTimes.shift() as number) < 1000) {
      this.refuse(new ProtocolError('TOO_MANY_MESSAGES', `More than ${MAX_DTMF_PER_SECOND} keypad keys in one second; a phone line carries about 12`));
      return;
    }
    // Keys can be a PIN: the digits are logged at debug only, and kept in the recording, which
    // is the operator's and opt-in (docs/security.md#logs).
    this.logger.debug({ dtmf: digit }, 'caller pressed a key');
    this.recorder?.dtmf(digit);
    if (this.state === 'active') this.dtmf.press(digit);
    else this.logger.debug('caller pressed a key before the agent started; not entered');
  }

  /**
   * A keypad entry is a user message, or a call of the agent's `dtmf.function` with the digits:
   * either interrupts the agent and gets a reply (docs/telephony.md#dtmf).
   */
  private entered(digits: string): void {
    const session = this.session;
    if (session === undefined) return;
    this.logger.info({ keys: digits.length, ...(this.dtmfFunction === undefined ? {} : { function: this.dtmfFunction }) }, 'caller entered keys');
    if (this.dtmfFunction !== undefined) {
      session.callFunction(this.dtmfFunction, JSON.stringify({ digits }));
      return;
    }
    session.handle({ type: 'InjectUserMessage', body: { content: dtmfMessage(digits) } }).catch((err: unknown) => this.fail(err));
  }

  private async start(event: Extract<PhoneEvent, { kind: 'start' }>): Promise<void> {
    const { options } = this;
    const { parameters } = event;
    const admission = await options.admit(parameters['token']);
    if (!admission.ok) {
      this.refuseStart(admission.status, admission.description);
      return;
    }
    if (this.isClosed) {
      // The carrier hung up while the store answered: the slot goes back at once.
      admission.ended(this.id);
      return;
    }
    this.admission = admission;
    this.streamId = event.streamId;
    const agent = await options.agents.settings(parameters['agent'], admission.agents);
    if (this.isClosed) return;
    this.dtmfFunction = agent.dtmfFunction;
    const config = phoneConfig(normalizeV1Settings(agent.settings, options.limits).value, event.format);
    admission.meter?.configured(config);
    this.logger.info({ agent: agent.name, ...(agent.source.kind === 'stored' ? { storedAgent: agent.source.id } : {}), call: event.callId }, 'phone call started');
    const requested = options.recordRequested || asksForRecording(parameters['record']);
    const call: Record<string, string> = { carrier: options.dialect.name, agent: agent.name, stream: event.streamId, ...(event.callId === undefined ? {} : { call: event.callId }) };
    const recorder = await options.recordings?.start({ session: this.id, path: options.path, call }, requested);
    if (this.isClosed) {
      options.recordings?.finish(recorder);
      return;
    }
    this.recorder = recorder;
    const created = await this.phoneAudio(config);
    const audio = admission.meter?.measure(created) ?? created;
    if (this.isClosed) {
      audio.close();
      return;
    }
    const session = new Session({
      config,
      providers: options.providers,
      io: {
        emit: (e) => this.emit(e),
        sendAudio: (frame) => this.sendMedia(frame),
        fatal: (error) => this.refuse(error, CLOSE.failed),
        end: () => this.close(CLOSE.normal, 'ended'),
      },
      audio,
      logger: this.logger,
      env: options.env,
      functionTimeoutMs: options.functionTimeoutMs,
      synthesisAheadMs: options.synthesisAheadMs,
      maxFunctionResultBytes: options.maxFunctionResultBytes,
      limits: options.limits,
      turnTaking: options.turnTaking,
      logTranscripts: options.logTranscripts,
      onTurn: (latency) => {
        options.onTurn?.(latency);
        admission.meter?.turn();
      },
      onTokens: (tokens) => admission.meter?.tokens(tokens.inputTokens, tokens.outputTokens),
    });
    this.session = session;
    await session.start();
    if (this.isClosed) return;
    this.state = 'active';
    for (const { bytes, at } of this.early.audio.splice(0)) {
      this.recorder?.arrived(bytes, at);
      session.audio(bytes);
    }
    this.early.bytes = 0;
    session.settingsApplied();
  }

  /**
   * The session's audio for the line: the factory's decoder and encoder, its clock under a
   * MarkClock, and the recorder around both when the call is recorded.
   */
  private async phoneAudio(config: AgentConfig): Promise<SessionAudio> {
    const recorder = this.recorder;
    const line = (frame: Uint8Array): void => {
      this.sendMedia(frame);
      this.clock?.sent(frame);
    };
    // Carriers get 20 ms media messages, paced one by one (docs/telephony.md#what-the-caller-heard).
    const audio = await this.options.createAudio(config, recorder?.sending(line) ?? line, { messageMs: FRAME_MS });
    const bytesPerMs = audio.encoder.bytesPerMs;
    this.frameBytes = Math.round(FRAME_MS * bytesPerMs);
    this.silence = SILENCE_BYTE[config.output.encoding === 'alaw' ? 'alaw' : 'mulaw'];
    const clock = new MarkClock(audio.clock, bytesPerMs, {
      mark: (name) => this.sendText(this.options.dialect.mark(this.streamId, name)),
      clear: () => this.sendText(this.options.dialect.clear(this.streamId)),
    });
    this.clock = clock;
    const phone: SessionAudio = { decode: (bytes) => audio.decode(bytes), encoder: audio.encoder, clock, close: () => audio.close() };
    return recorder?.audio(phone) ?? phone;
  }

  private emit(event: ServerEvent): void {
    this.recorder?.event(event);
    if (event.type === 'Warning') this.logger.info({ code: event.code }, event.description);
    else this.logger.debug({ event: event.type }, 'session event');
  }

  /** One media message per frame, each a whole frame long (the last of an utterance filled with silence). */
  private sendMedia(frame: Uint8Array): void {
    let bytes = frame;
    if (frame.length < this.frameBytes) {
      bytes = new Uint8Array(this.frameBytes).fill(this.silence);
      bytes.set(frame);
    }
    if (this.sendText(this.options.dialect.media(this.streamId, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')))) {
      this.admission?.meter?.audioOut(bytes.length);
    }
  }

  /** Whether the text went out. */
  private sendText(text: string): boolean {
    if (this.socket.readyState !== this.socket.OPEN) return false;
    if (this.socket.bufferedAmount > this.options.maxClientBufferBytes) {
      this.refuse(new ProtocolError('CLIENT_TOO_SLOW', `More than ${this.options.maxClientBufferBytes} bytes wait to be read by the carrier`), CLOSE.refused);
      this.socket.terminate();
      return false;
    }
    this.socket.send(text);
    return true;
  }

  private get isClosed(): boolean {
    return this.state === 'closed';
  }

  private resetIdleTimer(): void {
    clearTimeout(this.idleTimer);
    const { idleTimeoutMs } = this.options;
    this.idleTimer = setTimeout(() => this.refuse(new ProtocolError('CLIENT_MESSAGE_TIMEOUT', `No message from the carrier for ${idleTimeoutMs} ms`)), idleTimeoutMs);
  }

  private fail(err: unknown): void {
    if (err instanceof ProtocolError) {
      this.refuse(err);
      return;
    }
    this.logger.error({ err }, 'internal error');
    this.refuse(new ProtocolError('INTERNAL_SERVER_ERROR', 'The server hit an internal error handling this call'), CLOSE.failed);
  }

  /**
   * A start the server does not admit: closed with the code mirroring its HTTP status and
   * `Unauthorized: ...` or `Too Many Requests: ...`, logged, and nothing sent to the stream.
   */
  private refuseStart(status: 401 | 429, description: string): void {
    if (this.isClosed) return;
    const reason = status === 401 ? 'Unauthorized' : 'Too Many Requests';
    this.logger.info({ status }, `phone call refused: ${reason}: ${description}`);
    this.options.onRefused?.(status);
    this.close(status === 401 ? CLOSE.unauthorized : CLOSE.tooMany, `${reason}: ${description}`);
  }

  /** Ends the call with a readable reason: `CODE: description` in the close frame and the log. */
  private refuse(error: ProtocolError, code: number = CLOSE.refused): void {
    if (this.isClosed) return;
    this.logger.info({ code: error.code }, error.message);
    this.recorder?.event({ type: 'Error', code: error.code, description: error.message });
    this.close(code, `${error.code}: ${error.message}`);
  }

  private close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.dispose();
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(code, closeReason(reason));
  }

  private dispose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.idleTimer);
    clearTimeout(this.startTimer);
    clearTimeout(this.lengthTimer);
    const unentered = this.dtmf.close();
    if (unentered > 0) this.logger.info({ keys: unentered }, 'caller pressed keys the call ended before entering');
    this.early.audio.length = 0;
    this.session?.close();
    this.session = undefined;
    this.options.recordings?.finish(this.recorder);
    this.admission?.ended(this.id);
    this.onClosed(this);
  }
}

/**
 * The agent's configuration with the line's audio format in both directions (a phone line
 * plays raw frames, no WAV container), and echo suppression on unless the agent's settings turn
 * it off: a speakerphone carries the agent's voice back into the caller's microphone
 * (docs/telephony.md#echo).
 */
function phoneConfig(config: AgentConfig, format: LineFormat): AgentConfig {
  return {
    ...config,
    input: { ...format, echoSuppression: config.input.echoSuppression ?? true },
    output: { ...format, container: 'none' },
  };
}

/** A WebSocket close reason holds at most 123 bytes of UTF-8. */
function closeReason(reason: string): string {
  let text = reason;
  while (Buffer.byteLength(text) > 123) text = text.slice(0, -1);
  return text;
}
