/**
 * The one normalized configuration a session runs on, whatever dialect (EA or V1) the client
 * spoke. Produced by protocol/normalize; consumed by session/ and the provider registries.
 */

export type Dialect = 'ea' | 'v1';

/** Uncompressed encodings, in and out (a WAV header can describe them). */
export type PcmEncoding = 'linear16' | 'mulaw' | 'alaw';

/** What a client may send (docs/protocol-decisions.md#audio-formats). */
export type InputEncoding = PcmEncoding | 'linear32' | 'flac' | 'opus' | 'ogg-opus';

/** What a client may ask for; the compressed ones are whole streams per utterance. */
export type OutputEncoding = PcmEncoding | 'opus' | 'mp3' | 'flac';

export interface InputAudioFormat {
  encoding: InputEncoding;
  sampleRate: number;
  /**
   * Server-side echo suppression of the agent's own voice on this input (docs/protocol-decisions.md#echo-suppression);
   * undefined leaves it to the server's default (PARLEY_ECHO_SUPPRESSION, or on for phone calls).
   */
  echoSuppression?: boolean;
}

export interface OutputAudioFormat {
  encoding: OutputEncoding;
  sampleRate: number;
  /** `ogg` for opus; `none` for mp3 and flac, which are their own streams. */
  container: 'none' | 'wav' | 'ogg';
  /** Bits per second of the lossy encodings (opus, mp3); undefined for the others. */
  bitrate?: number;
}

/** Loose provider block: `type` picks the implementation, the rest is provider-specific. */
export interface ProviderSettings {
  type: string;
  model?: string;
  [field: string]: unknown;
}

export interface Endpoint {
  url: string;
  headers: Record<string, string>;
}

export interface FunctionEndpoint extends Endpoint {
  method: string;
}

export interface FunctionDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  /** Present: Parley calls it over HTTP (server-side). Absent: the client runs it. */
  endpoint?: FunctionEndpoint;
  deferUntilEot: boolean;
}

export interface ListenSettings {
  provider: ProviderSettings;
  /** A self-hosted or proxied listen server (docs/protocol-decisions.md#listen-endpoint). */
  endpoint?: Endpoint;
}

export interface ThinkSettings {
  provider: ProviderSettings;
  endpoint?: Endpoint;
  prompt: string;
  functions: FunctionDefinition[];
  /** Characters of history kept, or 'max'. */
  contextLength?: number | 'max';
}

export interface SpeakSettings {
  provider: ProviderSettings;
  endpoint?: Endpoint;
}

export interface FunctionCallRecord {
  id: string;
  name: string;
  clientSide: boolean;
  arguments: string;
  response: string;
  thoughtSignature?: string;
}

export type HistoryItem =
  | { kind: 'text'; role: 'user' | 'assistant'; content: string }
  | { kind: 'functions'; calls: FunctionCallRecord[] };

export interface AgentConfig {
  dialect: Dialect;
  input: InputAudioFormat;
  output: OutputAudioFormat;
  language: string;
  listen: ListenSettings;
  /** Ordered fallback chain; never empty. */
  think: ThinkSettings[];
  /** Ordered fallback chain; never empty. */
  speak: SpeakSettings[];
  greeting?: string;
  /** Conversation preloaded from settings (V1 agent.context.messages, EA context.messages). */
  context: HistoryItem[];
  /** EA `context.replay`: speak the trailing assistant message again after settings. */
  replay: boolean;
  /** `flags.history`: emit History events. */
  historyEvents: boolean;
  experimental: boolean;
  tags: string[];
}
