import type { ChatMessage, ThinkEvent, ToolDefinition } from '../types.js';

/** How the shared model is loaded; the same for every session of the process. */
export interface LlamaModelSpec {
  modelPath: string;
  /** Tokens of KV cache per session. */
  contextSize: number;
  /** Sessions that may hold a sequence at once (the bound on per-session memory). */
  maxSessions: number;
  /** CPU threads for inference; 0 lets llama.cpp decide. */
  threads: number;
}

export interface SamplingOptions {
  temperature?: number;
  maxTokens?: number;
  seed?: number;
}

export interface LoadPayload {
  model: LlamaModelSpec;
}

export interface LoadResult {
  chatWrapper: string;
  loadMs: number;
  trainContextSize: number;
}

export interface GeneratePayload {
  model: LlamaModelSpec;
  sessionId: string;
  messages: readonly ChatMessage[];
  tools: readonly ToolDefinition[];
  sampling: SamplingOptions;
}

export interface ReleasePayload {
  modelPath: string;
  sessionId: string;
}

/** Token counts of one turn: `evaluatedInputTokens` is small when the KV cache was reused. */
export interface LlamaUsage {
  type: 'usage';
  evaluatedInputTokens: number;
  outputTokens: number;
  stopReason: string;
}

export type LlamaEvent = ThinkEvent | LlamaUsage;

export const LLAMA_JOBS = {
  load: 'llama.load',
  generate: 'llama.generate',
  release: 'llama.release',
  /** Frees everything native before the pool ends the worker. */
  unload: 'llama.unload',
} as const;
