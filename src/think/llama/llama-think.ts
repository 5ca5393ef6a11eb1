import { ProviderError } from '../../core/errors.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ThinkSettings } from '../../protocol/agent-config.js';
import type { ThinkEvent, ThinkProvider, ThinkRequest } from '../types.js';
import type { LlamaEngine, LlamaSession } from './llama-engine.js';
import type { SamplingOptions } from './llama-protocol.js';
import { basename } from 'node:path';

export interface LlamaThinkOptions {
  /** One per model file and process, shared by every session (runtime/neural.ts builds it). */
  engine: LlamaEngine;
  /** Cap on reply length; a spoken reply rarely needs more (default 512). */
  maxTokens?: number;
}

function samplingFrom(settings: ThinkSettings, maxTokens: number): SamplingOptions {
  const p = settings.provider;
  const sampling: SamplingOptions = { maxTokens: typeof p['max_tokens'] === 'number' ? p['max_tokens'] : maxTokens };
  if (typeof p['temperature'] === 'number') sampling.temperature = p['temperature'];
  return sampling;
}

/**
 * A local LLM (node-llama-cpp, in the engine's worker) behind the think seam. One provider per
 * session: it holds that session's sequence (and so its KV cache) until `close`.
 */
export function createLlamaThink(settings: ThinkSettings, context: ProviderContext, options: LlamaThinkOptions): ThinkProvider {
  const label = `llama/${basename(options.engine.spec.modelPath)}`;
  const sampling = samplingFrom(settings, options.maxTokens ?? 512);
  let session: LlamaSession | undefined;

  async function* stream(request: ThinkRequest): AsyncGenerator<ThinkEvent> {
    if (request.signal.aborted) return;
    session ??= options.engine.openSession();
    try {
      for await (const event of session.generate({ ...request, sampling })) {
        if (request.signal.aborted) return;
        if (event.type === 'usage') {
          context.logger.debug({ provider: label, ...event }, 'llm turn');
          context.reportTokens?.({ inputTokens: event.evaluatedInputTokens, outputTokens: event.outputTokens });
          continue;
        }
        yield event;
      }
    } catch (err) {
      if (request.signal.aborted) return;
      throw new ProviderError('think', label, `local LLM failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  return {
    label,
    stream,
    close() {
      session?.close();
      session = undefined;
    },
  };
}
