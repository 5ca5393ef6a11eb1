import type { ErrorCode, WarningCode } from './codes.js';
import type { Dialect, FunctionCallRecord, HistoryItem } from './agent-config.js';

export interface FunctionCallAnnouncement {
  id: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
  clientSide: boolean;
  thoughtSignature?: string;
}

/** Latency figures in milliseconds; the encoder converts to the protocol's seconds. */
export interface LatencyFigures {
  sttMs?: number;
  tttTokenMs?: number;
  tttTextMs?: number;
  tttToolMs?: number;
  tttThinkingMs?: number;
  ttsMs?: number;
  totalMs?: number;
}

/** Everything a session tells its client, independent of the dialect on the wire. */
export type ServerEvent =
  | { type: 'Welcome'; id: string }
  | { type: 'SettingsApplied' }
  | { type: 'ConversationText'; role: 'user' | 'assistant'; content: string }
  /** Parley's own, only to a client that asked (docs/protocol-decisions.md#interim-transcripts). */
  | { type: 'InterimTranscript'; role: 'user'; content: string }
  | { type: 'History'; item: HistoryItem }
  | { type: 'UserStartedSpeaking' }
  | { type: 'AgentThinking'; content: string }
  | { type: 'FunctionCallRequest'; functions: FunctionCallAnnouncement[] }
  | { type: 'FunctionCallResponse'; id: string; name: string; content: string }
  | { type: 'FunctionCallCancelled'; functions: { id: string; name: string }[] }
  | { type: 'AgentStartedSpeaking'; totalMs: number; tttMs: number; ttsMs: number }
  | { type: 'AgentAudioDone' }
  | { type: 'LatencyReport'; latency: LatencyFigures }
  | { type: 'PromptUpdated' | 'ThinkUpdated' | 'SpeakUpdated' | 'ListenUpdated' }
  | { type: 'InjectionRefused'; message: string }
  | { type: 'Warning'; code: WarningCode; description: string }
  | { type: 'Error'; code: ErrorCode; description: string };

type Wire = Record<string, unknown>;

const seconds = (ms: number): number => Math.round(ms) / 1000;

/** The fields a call has on the wire both when announced and in History. */
function callWire(call: { id: string; name: string; arguments: string; clientSide: boolean; thoughtSignature?: string }): Wire {
  return {
    id: call.id,
    name: call.name,
    arguments: call.arguments,
    client_side: call.clientSide,
    ...(call.thoughtSignature === undefined ? {} : { thought_signature: call.thoughtSignature }),
  };
}

function functionCall(call: FunctionCallRecord): Wire {
  return { ...callWire(call), response: call.response };
}

function historyWire(item: HistoryItem): Wire {
  return item.kind === 'text'
    ? { type: 'History', role: item.role, content: item.content }
    : { type: 'History', function_calls: item.calls.map(functionCall) };
}

const LATENCY_FIELDS: [keyof LatencyFigures, string][] = [
  ['sttMs', 'stt_latency'],
  ['tttTokenMs', 'ttt_token_latency'],
  ['tttTextMs', 'ttt_text_latency'],
  ['tttToolMs', 'ttt_tool_latency'],
  ['tttThinkingMs', 'ttt_thinking_latency'],
  ['ttsMs', 'tts_latency'],
  ['totalMs', 'total_latency'],
];

function encodeV1(event: ServerEvent): Wire {
  switch (event.type) {
    case 'Welcome':
      return { type: 'Welcome', request_id: event.id };
    case 'History':
      return historyWire(event.item);
    case 'FunctionCallRequest':
      return {
        type: 'FunctionCallRequest',
        functions: event.functions.map(callWire),
      };
    case 'AgentStartedSpeaking':
      return {
        type: 'AgentStartedSpeaking',
        total_latency: seconds(event.totalMs),
        tts_latency: seconds(event.ttsMs),
        ttt_latency: seconds(event.tttMs),
      };
    case 'LatencyReport': {
      const wire: Wire = { type: 'LatencyReport' };
      for (const [key, name] of LATENCY_FIELDS) {
        const value = event.latency[key];
        if (value !== undefined) wire[name] = seconds(value);
      }
      return wire;
    }
    default:
      return { ...event };
  }
}

/** Events that have no EA form; EA clients (SDK 3.x) would only see them as Unhandled. */
const V1_ONLY = new Set<ServerEvent['type']>([
  'History',
  'FunctionCallCancelled',
  'LatencyReport',
  'ThinkUpdated',
  'ListenUpdated',
]);

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** EA shapes (docs/protocol-decisions.md#early-access-event-shapes); null when the event does not exist in EA. */
function encodeEa(event: ServerEvent): Wire[] {
  if (V1_ONLY.has(event.type)) return [];
  switch (event.type) {
    case 'Welcome':
      return [{ type: 'Welcome', session_id: event.id }];
    case 'PromptUpdated':
      return [{ type: 'InstructionsUpdated' }];
    case 'Error':
      // EA errors carry only `message`; the code is kept too, harmless to EA clients.
      return [{ type: 'Error', message: event.description, code: event.code }];
    case 'FunctionCallRequest':
      return event.functions
        .filter((f) => f.clientSide)
        .map((f) => ({
          type: 'FunctionCallRequest',
          function_name: f.name,
          function_call_id: f.id,
          input: parseArguments(f.arguments),
        }));
    case 'FunctionCallResponse':
      return [{ type: 'FunctionCalling', output: { id: event.id, name: event.name, content: event.content } }];
    default:
      return [encodeV1(event)];
  }
}

/** The JSON text frames to send for one event in a dialect (EA may need zero or several). */
export function encodeServerEvent(event: ServerEvent, dialect: Dialect): string[] {
  const wire = dialect === 'v1' ? [encodeV1(event)] : encodeEa(event);
  return wire.map((w) => JSON.stringify(w));
}
