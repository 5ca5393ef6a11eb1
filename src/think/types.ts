import type { ThinkSettings } from '../protocol/agent-config.js';
import type { ProviderContext } from '../core/provider-context.js';

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments object, as the LLM produced it. */
  arguments: string;
  thoughtSignature?: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string };

export interface ToolDefinition {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export type ThinkEvent =
  | { type: 'text'; text: string }
  | { type: 'thinking'; text: string }
  | { type: 'tool_call'; call: ToolCall };

export interface ThinkRequest {
  /** Full conversation; the first message is the system prompt when one is set. */
  messages: readonly ChatMessage[];
  tools: readonly ToolDefinition[];
  signal: AbortSignal;
}

/**
 * One LLM behind the think seam. `stream` yields text deltas and complete tool calls; it stops
 * promptly (without yielding more) once `signal` aborts, and throws ProviderError on failure.
 */
export interface ThinkProvider {
  /** For logs and warnings, e.g. `open_ai/gpt-4o-mini`. */
  readonly label: string;
  stream(request: ThinkRequest): AsyncIterable<ThinkEvent>;
  close?(): void;
}

export type ThinkFactory = (settings: ThinkSettings, context: ProviderContext) => ThinkProvider;
