/**
 * Wire shapes of the V1 Voice Agent API as a client sees them. Server messages are typed field by
 * field; client settings stay loose (any extra key passes through) because servers differ in what
 * providers they accept, as the Deepgram SDK's own types do.
 */

/** Names of every event an AgentClient emits (same strings as the Deepgram SDK's `AgentEvents`). */
export const AgentEvents = {
  Open: 'Open',
  Close: 'Close',
  Error: 'Error',
  Audio: 'Audio',
  Welcome: 'Welcome',
  SettingsApplied: 'SettingsApplied',
  ConversationText: 'ConversationText',
  History: 'History',
  UserStartedSpeaking: 'UserStartedSpeaking',
  AgentThinking: 'AgentThinking',
  FunctionCallRequest: 'FunctionCallRequest',
  FunctionCallResponse: 'FunctionCallResponse',
  FunctionCallCancelled: 'FunctionCallCancelled',
  AgentStartedSpeaking: 'AgentStartedSpeaking',
  AgentAudioDone: 'AgentAudioDone',
  LatencyReport: 'LatencyReport',
  PromptUpdated: 'PromptUpdated',
  ThinkUpdated: 'ThinkUpdated',
  SpeakUpdated: 'SpeakUpdated',
  ListenUpdated: 'ListenUpdated',
  InjectionRefused: 'InjectionRefused',
  Warning: 'Warning',
  Unhandled: 'Unhandled',
} as const;

export type AgentEventName = (typeof AgentEvents)[keyof typeof AgentEvents];

// ---- server → client -------------------------------------------------------------------------

export interface WelcomeMessage {
  type: 'Welcome';
  request_id: string;
}
export interface SettingsAppliedMessage {
  type: 'SettingsApplied';
}
export interface ConversationTextMessage {
  type: 'ConversationText';
  role: 'user' | 'assistant';
  content: string;
  languages?: string[];
  languages_hinted?: string[];
}
export interface HistoryFunctionCall {
  id: string;
  name: string;
  client_side: boolean;
  arguments: string;
  response: string;
  thought_signature?: string;
}
export type HistoryMessage =
  | { type: 'History'; role: 'user' | 'assistant'; content: string }
  | { type: 'History'; function_calls: HistoryFunctionCall[] };
export interface UserStartedSpeakingMessage {
  type: 'UserStartedSpeaking';
}
export interface AgentThinkingMessage {
  type: 'AgentThinking';
  content: string;
}
export interface FunctionCallRequestItem {
  id: string;
  name: string;
  /** JSON text of the arguments object. */
  arguments: string;
  client_side: boolean;
  thought_signature?: string;
}
export interface FunctionCallRequestMessage {
  type: 'FunctionCallRequest';
  functions: FunctionCallRequestItem[];
}
/** Sent by the server after it ran a server-side function; informational. */
export interface FunctionCallResponseMessage {
  type: 'FunctionCallResponse';
  id?: string;
  name: string;
  content: string;
}
export interface FunctionCallCancelledMessage {
  type: 'FunctionCallCancelled';
  functions: { id: string; name: string }[];
}
/** Latencies in seconds, as on the wire. */
export interface AgentStartedSpeakingMessage {
  type: 'AgentStartedSpeaking';
  total_latency: number;
  tts_latency: number;
  ttt_latency: number;
}
export interface AgentAudioDoneMessage {
  type: 'AgentAudioDone';
}
/** Latencies in seconds; any field may be missing. */
export interface LatencyReportMessage {
  type: 'LatencyReport';
  stt_latency?: number;
  ttt_token_latency?: number;
  ttt_text_latency?: number;
  ttt_tool_latency?: number;
  ttt_thinking_latency?: number;
  tts_latency?: number;
  total_latency?: number;
}
export interface PromptUpdatedMessage {
  type: 'PromptUpdated';
}
export interface ThinkUpdatedMessage {
  type: 'ThinkUpdated';
}
export interface SpeakUpdatedMessage {
  type: 'SpeakUpdated';
}
export interface ListenUpdatedMessage {
  type: 'ListenUpdated';
}
export interface InjectionRefusedMessage {
  type: 'InjectionRefused';
  message?: string;
}
export interface WarningMessage {
  type: 'Warning';
  description: string;
  code: string;
}
export interface ErrorMessage {
  type: 'Error';
  description: string;
  code: string;
}

export type ServerMessage =
  | WelcomeMessage
  | SettingsAppliedMessage
  | ConversationTextMessage
  | HistoryMessage
  | UserStartedSpeakingMessage
  | AgentThinkingMessage
  | FunctionCallRequestMessage
  | FunctionCallResponseMessage
  | FunctionCallCancelledMessage
  | AgentStartedSpeakingMessage
  | AgentAudioDoneMessage
  | LatencyReportMessage
  | PromptUpdatedMessage
  | ThinkUpdatedMessage
  | SpeakUpdatedMessage
  | ListenUpdatedMessage
  | InjectionRefusedMessage
  | WarningMessage
  | ErrorMessage;

export type ServerMessageType = ServerMessage['type'];

export const SERVER_MESSAGE_TYPES: ReadonlySet<string> = new Set<ServerMessageType>([
  'Welcome',
  'SettingsApplied',
  'ConversationText',
  'History',
  'UserStartedSpeaking',
  'AgentThinking',
  'FunctionCallRequest',
  'FunctionCallResponse',
  'FunctionCallCancelled',
  'AgentStartedSpeaking',
  'AgentAudioDone',
  'LatencyReport',
  'PromptUpdated',
  'ThinkUpdated',
  'SpeakUpdated',
  'ListenUpdated',
  'InjectionRefused',
  'Warning',
  'Error',
]);

// ---- client → server -------------------------------------------------------------------------

export type Loose<T> = T & Record<string, unknown>;

export type ProviderBlock = Loose<{ type: string; model?: string }>;
export type EndpointBlock = { url: string; headers?: Record<string, string> };

export type FunctionDefinition = Loose<{
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  endpoint?: EndpointBlock & { method?: string };
}>;

export type ListenSettings = Loose<{ provider: ProviderBlock }>;
export type ThinkSettings = Loose<{
  provider: ProviderBlock;
  endpoint?: EndpointBlock;
  prompt?: string;
  functions?: FunctionDefinition[];
}>;
export type SpeakSettings = Loose<{ provider: ProviderBlock; endpoint?: EndpointBlock }>;

export interface AudioInputSettings {
  encoding: string;
  sample_rate: number;
}
export interface AudioOutputSettings {
  encoding?: string;
  sample_rate?: number;
  bitrate?: number;
  container?: string;
}

/** V1 `Settings` without its `type` (configure() adds it). */
export type AgentSettings = Loose<{
  audio?: { input?: AudioInputSettings; output?: AudioOutputSettings };
  agent: Loose<{
    language?: string;
    listen?: ListenSettings;
    think?: ThinkSettings | ThinkSettings[];
    speak?: SpeakSettings | SpeakSettings[];
    greeting?: string;
    context?: { messages: HistoryMessage[] };
  }>;
  experimental?: boolean;
  flags?: { history?: boolean };
  tags?: string[];
  mip_opt_out?: boolean;
}>;

export interface FunctionCallResponseInput {
  id: string;
  name: string;
  content: string;
  thought_signature?: string;
}

export type InjectBehavior = 'default' | 'queue' | 'interrupt';
