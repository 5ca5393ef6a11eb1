import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { WebSocket } from 'ws';
import { ProtocolError } from '../protocol/errors.js';
import { CLIENT_ERROR_CODES } from '../protocol/codes.js';
import type { Logger } from '../core/logger.js';
import type { Providers } from '../session/provider-registry.js';
import type { Dialect } from '../protocol/agent-config.js';
import { normalizeEaSettings, normalizeV1Settings } from '../protocol/normalize.js';
import { isSettingsMessage, parseClientMessage } from '../protocol/parse.js';
import type { ClientMessage } from '../protocol/parse.js';
import type { V1Settings } from '../protocol/client-schemas.js';
import { encodeServerEvent } from '../protocol/server-events.js';
import type { ServerEvent } from '../protocol/server-events.js';
import { Session } from '../session/session.js';
import type { SessionAudioFactory } from '../session/session.js';
import { ClientBuffer } from './client-buffer.js';
import type { ServerConfig } from './config.js';
import type { ServerMetrics } from './metrics.js';
import type { UsageMeter } from './usage-meter.js';
import type { Recordings, SessionRecorder } from '../recording/recorder.js';

export interface ConnectionDeps {
  config: ServerConfig;
  providers: Providers;
  metrics: ServerMetrics;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
  createAudio: SessionAudioFactory;
  /** Counts what the session uses for its usage record; absent without a store. */
  meter?: UsageMeter;
  /** The stored agent (the `agent` block) a Settings names by id, looked up in the session's project. */
  resolveAgent?: (id: string) => Promise<Record<string, unknown> | undefined>;
  /** Where sessions are recorded (docs/recordings.md), whether this client asked, and its path. */
  recording?: { recordings: Recordings; requested: boolean; path: string };
  /** `?interim_transcripts=true` in the URL (docs/protocol-decisions.md#interim-transcripts). */
  interimTranscripts?: boolean;
}

/** Longest stored agent id (or a phone call's agent name) looked up; a longer one cannot exist. */
export const MAX_AGENT_ID_CHARS = 128;

/** Audio a client may send after Settings and before SettingsApplied (or before Settings). */
const MAX_EARLY_AUDIO_BYTES = 4 * 1024 * 1024;
/** Messages a client may send after Settings and before SettingsApplied (docs/protocol-decisions.md#message-limits). */
const MAX_WAITING_MESSAGES = 256;
/** Bytes of messages that may wait behind one being handled (docs/protocol-decisions.md#message-limits). */
const MAX_WAITING_BYTES = 4 * 1024 * 1024;

/** Close code for every deliberate termination: SDK 5.x reconnects on anything else (docs/protocol-decisions.md#fatal-errors-close-with-1000). */
const NORMAL_CLOSURE = 1000;

type State = 'awaiting-settings' | 'applying' | 'active' | 'closed';

/**
 * One WebSocket connection: Welcome, settings, the liveness and session-length timers, frame
 * limits, and translation between frames and the session's events in the client's dialect.
 */
export class Connection {
  readonly id = randomUUID();
  private state: State = 'awaiting-settings';
  private dialect: Dialect;
  private session: Session | undefined;
  private recorder: SessionRecorder | undefined;
  /** When each early audio frame arrived, for its place in a recording (docs/recordings.md). */
  private readonly earlyAt = new WeakMap<Uint8Array, number>();
  private readonly early: { audio: Uint8Array[]; bytes: number; messages: ClientMessage[] } = { audio: [], bytes: 0, messages: [] };
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly sessionTimers: NodeJS.Timeout[] = [];
  private readonly logger: Logger;
  private readonly buffer: ClientBuffer;
  /** Serializes message handling so updates and injections apply in arrival order. */
  private work: Promise<void> = Promise.resolve();
  /** Bytes of the messages in `work` not yet handled. */
  private waitingBytes = 0;

  constructor(
    private readonly socket: WebSocket,
    pathDialect: Dialect,
    private readonly deps: ConnectionDeps,
    private readonly onClosed: (connection: Connection) => void,
  ) {
    this.dialect = pathDialect;
    this.logger = deps.logger.child({ session: this.id });
    const bounds = { maxBytes: deps.config.maxClientBufferBytes, graceMs: deps.config.clientBufferGraceMs };
    this.buffer = new ClientBuffer(() => socket.bufferedAmount, bounds, (description) => this.tooSlow(description));
    socket.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    socket.on('close', (code) => {
      this.logger.info({ code }, 'connection closed');
      this.dispose();
    });
    socket.on('error', (err) => this.logger.warn({ err: err.message }, 'socket error'));
    this.emit({ type: 'Welcome', id: this.id });
    this.resetIdleTimer();
    this.startSessionTimers();
  }

  /** The state can change while settings are applied asynchronously. */
  private get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Drain: tell the client the server is going away and close. */
  goAway(): void {
    this.fatal(new ProtocolError('SERVER_GOING_AWAY', 'The server is shutting down; please reconnect to another instance'));
  }

  private emit(event: ServerEvent): void {
    this.recorder?.event(event);
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (event.type === 'Warning') this.deps.metrics.warnings.inc({ code: event.code });
    for (const frame of encodeServerEvent(event, this.dialect)) this.socket.send(frame);
    this.buffer.check();
  }

  private sendAudio(frame: Uint8Array): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    // A client this far behind would hear the frame late anyway: dropping it keeps the memory it
    // costs bounded while it catches up or is closed. Its History still counts the frame as heard.
    if (!this.buffer.acceptsAudio()) return;
    this.socket.send(frame, { binary: true });
    this.deps.meter?.audioOut(frame.byteLength);
    this.buffer.check();
  }

  private fatal(error: ProtocolError): void {
    if (this.state === 'closed') return;
    // The Error below must not trip the buffer check again.
    this.buffer.stop();
    // A client's own mistake is its business, not the operator's: debug, not info.
    this.logger[CLIENT_ERROR_CODES.has(error.code) ? 'debug' : 'info']({ code: error.code }, error.message);
    this.deps.metrics.errors.inc({ code: error.code });
    this.emit({ type: 'Error', code: error.code, description: error.message });
    this.dispose();
    this.socket.close(NORMAL_CLOSURE, error.code);
  }

  /**
   * A client that does not read (docs/protocol-decisions.md#slow-clients). Its Error is queued
   * behind everything it has not read, and a close handshake would hold the socket and those
   * bytes for ws's close timeout, so the socket is terminated at once.
   */
  private tooSlow(description: string): void {
    this.fatal(new ProtocolError('CLIENT_TOO_SLOW', description));
    this.socket.terminate();
  }

  private dispose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.buffer.stop();
    clearTimeout(this.idleTimer);
    for (const timer of this.sessionTimers) clearTimeout(timer);
    this.early.audio.length = 0;
    this.early.messages.length = 0;
    this.session?.close();
    this.session = undefined;
    this.deps.recording?.recordings.finish(this.recorder);
    this.onClosed(this);
  }

  private resetIdleTimer(): void {
    // Every frame resets it: moving the one timer is cheaper than a new one 50 times a second.
    if (this.idleTimer !== undefined) {
      this.idleTimer.refresh();
      return;
    }
    const { idleTimeoutMs } = this.deps.config;
    this.idleTimer = setTimeout(() => {
      this.fatal(
        new ProtocolError(
          'CLIENT_MESSAGE_TIMEOUT',
          `No message from the client for ${idleTimeoutMs} ms. Send audio continuously, or a KeepAlive message at least every ${Math.floor(idleTimeoutMs / 2)} ms while not sending audio.`,
        ),
      );
    }, idleTimeoutMs);
  }

  private startSessionTimers(): void {
    const { maxSessionMs, sessionWarningMs } = this.deps.config;
    const warnAt = maxSessionMs - sessionWarningMs;
    if (sessionWarningMs > 0 && warnAt > 0) {
      this.sessionTimers.push(
        setTimeout(() => {
          this.emit({
            type: 'Warning',
            code: 'MAXIMUM_SESSION_LENGTH_APPROACHING',
            description: `The session will end in ${Math.round(sessionWarningMs / 1000)} s (limit ${Math.round(maxSessionMs / 1000)} s)`,
          });
        }, warnAt),
      );
    }
    this.sessionTimers.push(
      setTimeout(() => {
        this.fatal(new ProtocolError('MAXIMUM_SESSION_LENGTH_REACHED', `The session reached its maximum length of ${Math.round(maxSessionMs / 1000)} s`));
      }, maxSessionMs),
    );
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    this.resetIdleTimer();
    if (isBinary) {
      this.onAudio(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return;
    }
    if (data.byteLength > this.deps.config.maxTextFrameBytes) {
      this.fatal(new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', `Text message of ${data.byteLength} bytes exceeds the limit of ${this.deps.config.maxTextFrameBytes} bytes`));
      return;
    }
    // ws leaves UTF-8 to the connection, so a bad text frame gets a coded Error (docs/protocol-decisions.md#message-limits).
    if (!isUtf8(data)) {
      this.fatal(new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', 'Text message is not valid UTF-8'));
      return;
    }
    let message: ClientMessage;
    try {
      message = parseClientMessage(data.toString('utf8'), this.deps.config.limits.maxJsonDepth);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.onMessage(message, data.byteLength);
  }

  private onAudio(bytes: Uint8Array): void {
    if (bytes.byteLength > this.deps.config.maxBinaryFrameBytes) {
      this.fatal(new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', `Audio message of ${bytes.byteLength} bytes exceeds the limit of ${this.deps.config.maxBinaryFrameBytes} bytes`));
      return;
    }
    if (this.state === 'active') {
      this.session?.audio(bytes);
      return;
    }
    // Audio before SettingsApplied is kept and processed once settings apply (docs/protocol-decisions.md#audio-before-settings).
    this.early.bytes += bytes.byteLength;
    if (this.early.bytes > MAX_EARLY_AUDIO_BYTES) {
      this.fatal(new ProtocolError('NON_SETTINGS_MESSAGE_BEFORE_SETTINGS', 'Too much audio arrived before Settings; send Settings first'));
      return;
    }
    const early = Uint8Array.from(bytes);
    this.earlyAt.set(early, performance.now());
    this.early.audio.push(early);
  }

  private onMessage(message: ClientMessage, bytes: number): void {
    if (this.state === 'awaiting-settings') {
      if (!isSettingsMessage(message)) {
        this.fatal(new ProtocolError('NON_SETTINGS_MESSAGE_BEFORE_SETTINGS', `${message.type} arrived before Settings; the first message must be Settings`));
        return;
      }
      this.state = 'applying';
      void this.applySettings(message);
      return;
    }
    if (this.state === 'applying') {
      if (isSettingsMessage(message)) {
        this.fatal(new ProtocolError('SETTINGS_ALREADY_APPLIED', 'Settings were already sent for this session; send them only once'));
        return;
      }
      if (this.early.messages.length >= MAX_WAITING_MESSAGES) {
        this.fatal(new ProtocolError('NON_SETTINGS_MESSAGE_BEFORE_SETTINGS', `More than ${MAX_WAITING_MESSAGES} messages arrived before SettingsApplied; wait for it`));
        return;
      }
      this.early.messages.push(message);
      return;
    }
    this.enqueue(message, bytes);
  }

  /**
   * Messages are handled one after the other; those waiting are bounded by their size, since one
   * may wait long (an UpdateListen opening its listener) while a burst of small ones is normal.
   */
  private enqueue(message: ClientMessage, bytes: number): void {
    const session = this.session;
    if (session === undefined) return;
    if (this.waitingBytes + bytes > MAX_WAITING_BYTES) {
      this.fatal(new ProtocolError('TOO_MANY_MESSAGES', `More than ${MAX_WAITING_BYTES} bytes of messages wait for the one before them to be handled; wait for each acknowledgement`));
      return;
    }
    this.waitingBytes += bytes;
    this.work = this.work
      .then(() => session.handle(message))
      .catch((err: unknown) => this.fail(err))
      .finally(() => (this.waitingBytes -= bytes));
  }

  private async applySettings(message: Extract<ClientMessage, { type: 'Settings' | 'SettingsConfiguration' }>): Promise<void> {
    try {
      this.dialect = message.type === 'Settings' ? 'v1' : 'ea';
      const settings = message.type === 'Settings' ? await this.storedAgent(message.settings) : undefined;
      if (this.isClosed) return;
      const { value: config, warnings } = message.type === 'Settings' ? normalizeV1Settings(settings ?? message.settings, this.deps.config.limits) : normalizeEaSettings(message.settings, this.deps.config.limits);
      this.deps.meter?.configured(config);
      const recording = this.deps.recording;
      this.recorder = await recording?.recordings.start({ session: this.id, path: recording.path }, recording.requested);
      if (this.isClosed) {
        recording?.recordings.finish(this.recorder);
        return;
      }
      const send = (frame: Uint8Array): void => this.sendAudio(frame);
      const created = await this.deps.createAudio(config, this.recorder?.sending(send) ?? send);
      const recorded = this.recorder?.audio(created) ?? created;
      const audio = this.deps.meter?.measure(recorded) ?? recorded;
      if (this.isClosed) {
        audio.close();
        return;
      }
      const session = new Session({
        config,
        providers: this.deps.providers,
        io: {
          emit: (event) => this.emit(event),
          sendAudio: (frame) => this.sendAudio(frame),
          fatal: (error) => this.fatal(error),
          end: () => {
            this.dispose();
            this.socket.close(NORMAL_CLOSURE, 'closed by the client');
          },
        },
        audio,
        logger: this.logger,
        env: this.deps.env,
        functionTimeoutMs: this.deps.config.functionTimeoutMs,
        synthesisAheadMs: this.deps.config.synthesisAheadMs,
        maxFunctionResultBytes: this.deps.config.maxFunctionResultBytes,
        limits: this.deps.config.limits,
        turnTaking: this.deps.config.turnTaking,
        interimTranscripts: this.deps.interimTranscripts === true,
        logTranscripts: this.deps.config.logTranscripts,
        onTurn: (latency) => {
          this.deps.metrics.observeTurn(latency);
          this.deps.meter?.turn();
        },
        onTokens: (tokens) => this.deps.meter?.tokens(tokens.inputTokens, tokens.outputTokens),
      });
      this.session = session;
      await session.start();
      if (this.isClosed) return;
      this.state = 'active';
      this.emit({ type: 'SettingsApplied' });
      for (const warning of warnings) this.emit({ type: 'Warning', ...warning });
      for (const bytes of this.early.audio.splice(0)) {
        this.recorder?.arrived(bytes, this.earlyAt.get(bytes) ?? performance.now());
        session.audio(bytes);
      }
      this.early.bytes = 0;
      session.settingsApplied();
      // Already bounded in number while they waited for SettingsApplied.
      for (const queued of this.early.messages.splice(0)) this.enqueue(queued, 0);
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * A Settings whose `agent` is a stored agent's id, with that agent's block in its place
   * (docs/protocol-decisions.md#saved-agent-ids). Undefined when `agent` is an object, or when
   * the server has no store (normalization then refuses the id with AGENT_ID_NOT_SUPPORTED).
   */
  private async storedAgent(settings: V1Settings): Promise<V1Settings | undefined> {
    const id = settings.agent;
    const resolve = this.deps.resolveAgent;
    if (typeof id !== 'string' || resolve === undefined) return undefined;
    const stored = id.length <= MAX_AGENT_ID_CHARS ? await resolve(id) : undefined;
    if (stored === undefined) {
      throw new ProtocolError('INVALID_AGENT_ID', `No stored agent "${id.slice(0, MAX_AGENT_ID_CHARS)}" in this project: create one with POST /v1/projects/{project_id}/agents or parley agents create, or send the agent object itself`);
    }
    const parsed = parseClientMessage(JSON.stringify({ ...settings, agent: stored }), this.deps.config.limits.maxJsonDepth);
    return parsed.type === 'Settings' ? parsed.settings : undefined;
  }

  private fail(err: unknown): void {
    if (err instanceof ProtocolError) {
      this.fatal(err);
      return;
    }
    this.logger.error({ err }, 'internal error');
    this.fatal(new ProtocolError('INTERNAL_SERVER_ERROR', 'The server hit an internal error handling this session'));
  }
}
