import type { ErrorMessage, ServerMessage } from './messages.js';

export interface OpenEvent {
  type: 'Open';
}

export interface CloseEvent {
  type: 'Close';
  code: number;
  reason: string;
  /** True when the reconnect policy will open a new connection after this close. */
  willReconnect: boolean;
}

/**
 * A server `Error` message, or a failure on the client side (codes `SOCKET_ERROR`,
 * `UNPARSABLE_SERVER_MESSAGE`), on one event as in the Deepgram SDK.
 */
export type ClientErrorEvent = ErrorMessage & { cause?: unknown };

export interface AudioEvent {
  type: 'Audio';
  /** One binary frame of agent speech in the negotiated output format. */
  data: Uint8Array;
}

/** A JSON message whose `type` this client does not know. */
export interface UnhandledEvent {
  type: 'Unhandled';
  message: Record<string, unknown>;
}

type Named<T extends { type: string }, K extends string> = Extract<T, { type: K }>;

/** Listener argument per event name. Audio listeners get the bytes, as in the Deepgram SDK. */
export interface AgentEventMap {
  Open: OpenEvent;
  Close: CloseEvent;
  Error: ClientErrorEvent;
  Audio: Uint8Array;
  Unhandled: Record<string, unknown>;
  Welcome: Named<ServerMessage, 'Welcome'>;
  SettingsApplied: Named<ServerMessage, 'SettingsApplied'>;
  ConversationText: Named<ServerMessage, 'ConversationText'>;
  History: Named<ServerMessage, 'History'>;
  UserStartedSpeaking: Named<ServerMessage, 'UserStartedSpeaking'>;
  AgentThinking: Named<ServerMessage, 'AgentThinking'>;
  FunctionCallRequest: Named<ServerMessage, 'FunctionCallRequest'>;
  FunctionCallResponse: Named<ServerMessage, 'FunctionCallResponse'>;
  FunctionCallCancelled: Named<ServerMessage, 'FunctionCallCancelled'>;
  AgentStartedSpeaking: Named<ServerMessage, 'AgentStartedSpeaking'>;
  AgentAudioDone: Named<ServerMessage, 'AgentAudioDone'>;
  LatencyReport: Named<ServerMessage, 'LatencyReport'>;
  PromptUpdated: Named<ServerMessage, 'PromptUpdated'>;
  ThinkUpdated: Named<ServerMessage, 'ThinkUpdated'>;
  SpeakUpdated: Named<ServerMessage, 'SpeakUpdated'>;
  ListenUpdated: Named<ServerMessage, 'ListenUpdated'>;
  InjectionRefused: Named<ServerMessage, 'InjectionRefused'>;
  Warning: Named<ServerMessage, 'Warning'>;
}

/** What async iteration over a client yields: every event, each tagged by `type`. */
export type AgentEvent =
  | OpenEvent
  | CloseEvent
  | ClientErrorEvent
  | AudioEvent
  | UnhandledEvent
  | Exclude<ServerMessage, ErrorMessage>;

type Listener<T> = (event: T) => void;

/** A small typed emitter; node:events is not available in browsers. */
export class TypedEmitter<M extends object> {
  readonly #listeners = new Map<keyof M, Set<Listener<never>>>();

  on<K extends keyof M>(name: K, listener: Listener<M[K]>): this {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener);
    return this;
  }

  once<K extends keyof M>(name: K, listener: Listener<M[K]>): this {
    const wrapped: Listener<M[K]> = (event) => {
      this.off(name, wrapped);
      listener(event);
    };
    return this.on(name, wrapped);
  }

  off<K extends keyof M>(name: K, listener: Listener<M[K]>): this {
    this.#listeners.get(name)?.delete(listener);
    return this;
  }

  listenerCount(name: keyof M): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  protected emit<K extends keyof M>(name: K, event: M[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) (listener as Listener<M[K]>)(event);
  }
}
