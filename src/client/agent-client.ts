import { EventQueue } from './event-queue.js';
import { TypedEmitter } from './events.js';
import type { AgentEvent, AgentEventMap, ClientErrorEvent, CloseEvent } from './events.js';
import type {
  AgentSettings,
  FunctionCallResponseInput,
  InjectBehavior,
  ListenSettings,
  ServerMessage,
  SpeakSettings,
  ThinkSettings,
} from './messages.js';
import { SERVER_MESSAGE_TYPES } from './messages.js';
import { defaultAuthMode, openSocket, OPEN } from './transport.js';
import type { AuthMode, SocketConstructor, SocketLike } from './transport.js';

export const V1_AGENT_PATH = '/v1/agent/converse';

/** Reconnecting is off unless this is given. Closes with 1000 or by `disconnect()` never reconnect. */
export interface ReconnectPolicy {
  /** Attempts after one unexpected close; the count restarts once a connection opens. */
  maxAttempts: number;
  /** Delay before the first attempt, doubled on each next one. Default 500. */
  delayMs?: number;
  /** Upper bound of the delay. Default 10000. */
  maxDelayMs?: number;
  /** Veto per close; default: reconnect on any close code other than 1000. */
  shouldReconnect?: (close: { code: number; reason: string }) => boolean;
}

export interface AgentClientOptions {
  /** `ws://host:port` (the V1 path is added) or a full URL with its own path. http(s) is accepted. */
  url: string;
  key?: string;
  accessToken?: string;
  /** Default: `header` in Node, `subprotocol` where the runtime's WebSocket is used. */
  auth?: AuthMode;
  /** Path used when `url` has none. Default `/v1/agent/converse`. */
  path?: string;
  /** Send `KeepAlive` whenever nothing was sent for this long. Off when absent or 0. */
  keepAliveIntervalMs?: number;
  reconnect?: ReconnectPolicy;
  /** A WebSocket class to use instead of the default one. */
  WebSocket?: SocketConstructor;
  /** Connect from the constructor (default true); otherwise call `connect()`. */
  autoConnect?: boolean;
}

export function resolveAgentUrl(url: string, path: string = V1_AGENT_PATH): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (parsed.pathname === '' || parsed.pathname === '/') parsed.pathname = path;
  return parsed.toString();
}

type Outgoing = string | Uint8Array;

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data) && data.every((part) => part instanceof Uint8Array)) {
    const parts = data;
    const out = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  }
  return undefined;
}

/**
 * A Voice Agent (V1) connection with the Deepgram SDK's agent client surface: `on(AgentEvents.X)`,
 * `configure`, `send`, `keepAlive`, injections, updates, function-call responses. Sends made
 * before the socket opens are queued. Also iterable: `for await (const event of client)`.
 */
export class AgentClient extends TypedEmitter<AgentEventMap> implements AsyncIterable<AgentEvent> {
  readonly url: string;
  readonly #options: AgentClientOptions;
  #socket: SocketLike | undefined;
  #connecting = false;
  #closeRequested = false;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  #lastSentAt = 0;
  readonly #pending: Outgoing[] = [];
  readonly #queues = new Set<EventQueue<AgentEvent>>();

  constructor(options: AgentClientOptions) {
    super();
    this.#options = options;
    this.url = resolveAgentUrl(options.url, options.path);
    if (options.autoConnect !== false) this.connect();
  }

  /** Opens the connection (a no-op while one is open or opening). */
  connect(): void {
    if (this.#connecting || this.#socket) return;
    this.#closeRequested = false;
    this.#connecting = true;
    const { key, accessToken } = this.#options;
    const auth = this.#options.auth ?? defaultAuthMode(this.#options.WebSocket);
    openSocket(this.url, { key, accessToken }, auth, this.#options.WebSocket).then(
      (socket) => this.#attach(socket),
      (error: unknown) => {
        this.#connecting = false;
        this.#fail('SOCKET_ERROR', error);
        this.#closed({ code: 1006, reason: String(error) });
      },
    );
  }

  /** Closes the connection with 1000 (or the code given); no reconnect follows. */
  disconnect(code = 1000, reason = ''): void {
    this.#closeRequested = true;
    if (this.#reconnectTimer) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
      this.#closed({ code, reason });
      return;
    }
    const socket = this.#socket;
    if (socket) socket.close(code, reason);
  }

  isConnected(): boolean {
    return this.#socket?.readyState === OPEN;
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed (WebSocket numbering). */
  getReadyState(): number {
    return this.#socket?.readyState ?? (this.#connecting ? 0 : 3);
  }

  /** Bytes queued in the socket and not yet written; useful for back-pressure. */
  get bufferedAmount(): number {
    return this.#socket?.bufferedAmount ?? 0;
  }

  // ---- sending ------------------------------------------------------------------------------

  /** Sends V1 `Settings`; `type` is added. */
  configure(settings: AgentSettings): void {
    this.sendJson({ ...settings, type: 'Settings' });
  }

  /** Deepgram SDK 5 name: the message may carry its `type` already. */
  sendSettings(settings: AgentSettings & { type?: 'Settings' }): void {
    this.configure(settings);
  }

  /** Binary user audio in the declared input format; empty frames are skipped. */
  send(audio: Uint8Array | ArrayBuffer): void {
    const bytes = audio instanceof Uint8Array ? audio : new Uint8Array(audio);
    if (bytes.byteLength === 0) return;
    this.#send(bytes);
  }

  sendMedia(audio: Uint8Array | ArrayBuffer): void {
    this.send(audio);
  }

  keepAlive(): void {
    this.sendJson({ type: 'KeepAlive' });
  }

  injectUserMessage(content: string): void {
    this.sendJson({ type: 'InjectUserMessage', content });
  }

  /** `message` is the field of the current spec; Parley also accepts the older `content`. */
  injectAgentMessage(message: string, behavior?: InjectBehavior): void {
    this.sendJson(behavior ? { type: 'InjectAgentMessage', message, behavior } : { type: 'InjectAgentMessage', message });
  }

  functionCallResponse(response: FunctionCallResponseInput): void {
    this.sendJson({ ...response, type: 'FunctionCallResponse' });
  }

  updatePrompt(prompt: string): void {
    this.sendJson({ type: 'UpdatePrompt', prompt });
  }

  updateSpeak(speak: SpeakSettings | SpeakSettings[]): void {
    this.sendJson({ type: 'UpdateSpeak', speak });
  }

  updateThink(think: ThinkSettings | ThinkSettings[]): void {
    this.sendJson({ type: 'UpdateThink', think });
  }

  updateListen(listen: ListenSettings): void {
    this.sendJson({ type: 'UpdateListen', listen });
  }

  forceEndTurn(): void {
    this.sendJson({ type: 'ForceEndTurn' });
  }

  /** Any JSON message, for fields or types this client has no method for. */
  sendJson(message: { type: string } & Record<string, unknown>): void {
    this.#send(JSON.stringify(message));
  }

  // ---- receiving ----------------------------------------------------------------------------

  /** Every event from now on, ending after the final Close. */
  events(): AsyncIterableIterator<AgentEvent> {
    const queue: EventQueue<AgentEvent> = new EventQueue(() => this.#queues.delete(queue));
    this.#queues.add(queue);
    return queue;
  }

  [Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
    return this.events();
  }

  /** Resolves with the next event of that name; rejects if the connection ends first. */
  waitFor<K extends keyof AgentEventMap>(name: K, timeoutMs?: number): Promise<AgentEventMap[K]> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        this.off(name, onEvent);
        this.off('Close', onClose);
        if (timer) clearTimeout(timer);
      };
      const onEvent = (event: AgentEventMap[K]): void => {
        done();
        resolve(event);
      };
      const onClose = (close: CloseEvent): void => {
        if (close.willReconnect || name === 'Close') return;
        done();
        reject(new Error(`connection closed (${close.code}) before ${String(name)}`));
      };
      this.on(name, onEvent);
      this.on('Close', onClose);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          done();
          reject(new Error(`no ${String(name)} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  // ---- internals ----------------------------------------------------------------------------

  #send(data: Outgoing): void {
    const socket = this.#socket;
    if (socket && socket.readyState === OPEN) {
      socket.send(data);
      this.#lastSentAt = Date.now();
    } else {
      this.#pending.push(data);
    }
  }

  #attach(socket: SocketLike): void {
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      this.#connecting = false;
      this.#attempt = 0;
      this.#publish('Open', { type: 'Open' }, { type: 'Open' });
      // Queued sends go after the Open handlers, so a Settings sent there is still first.
      for (const data of this.#pending.splice(0)) this.#send(data);
      this.#startKeepAlive();
    };
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onerror = (event) => {
      const error = (event as { error?: unknown; message?: string }).error ?? event;
      this.#fail('SOCKET_ERROR', error);
    };
    socket.onclose = (event) => {
      this.#socket = undefined;
      this.#connecting = false;
      this.#closed({ code: event.code, reason: event.reason });
    };
    if (this.#closeRequested) socket.close(1000);
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') {
      const bytes = toBytes(data);
      if (bytes) this.#publish('Audio', bytes, { type: 'Audio', data: bytes });
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch (error) {
      this.#fail('UNPARSABLE_SERVER_MESSAGE', error, `not JSON: ${data.slice(0, 200)}`);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.#fail('UNPARSABLE_SERVER_MESSAGE', undefined, `not a JSON object: ${data.slice(0, 200)}`);
      return;
    }
    const record = message as Record<string, unknown>;
    const type = record['type'];
    if (typeof type !== 'string' || !SERVER_MESSAGE_TYPES.has(type)) {
      this.#publish('Unhandled', record, { type: 'Unhandled', message: record });
      return;
    }
    const typed = record as unknown as ServerMessage;
    // The map is keyed by the same names as the message types, so the cast is exact.
    this.#publish(typed.type, typed, typed);
  }

  #fail(code: string, cause: unknown, description?: string): void {
    const text = description ?? (cause instanceof Error ? cause.message : 'WebSocket error');
    const event: ClientErrorEvent = { type: 'Error', code, description: text, cause };
    this.#publish('Error', event, event);
  }

  #closed(close: { code: number; reason: string }): void {
    this.#stopKeepAlive();
    const policy = this.#options.reconnect;
    const willReconnect =
      !this.#closeRequested &&
      policy !== undefined &&
      this.#attempt < policy.maxAttempts &&
      (policy.shouldReconnect ? policy.shouldReconnect(close) : close.code !== 1000);
    const event: CloseEvent = { type: 'Close', code: close.code, reason: close.reason, willReconnect };
    this.#publish('Close', event, event);
    if (willReconnect && policy) {
      this.#attempt += 1;
      const delay = Math.min((policy.delayMs ?? 500) * 2 ** (this.#attempt - 1), policy.maxDelayMs ?? 10_000);
      this.#reconnectTimer = setTimeout(() => {
        this.#reconnectTimer = undefined;
        this.connect();
      }, delay);
      return;
    }
    for (const queue of this.#queues) queue.end();
    this.#queues.clear();
  }

  #publish<K extends keyof AgentEventMap>(name: K, payload: AgentEventMap[K], event: AgentEvent): void {
    for (const queue of this.#queues) queue.push(event);
    this.emit(name, payload);
  }

  #startKeepAlive(): void {
    const interval = this.#options.keepAliveIntervalMs;
    if (!interval) return;
    this.#lastSentAt = Date.now();
    this.#keepAliveTimer = setInterval(
      () => {
        if (Date.now() - this.#lastSentAt >= interval) this.keepAlive();
      },
      Math.max(50, interval / 4),
    );
  }

  #stopKeepAlive(): void {
    if (this.#keepAliveTimer) clearInterval(this.#keepAliveTimer);
    this.#keepAliveTimer = undefined;
  }
}
