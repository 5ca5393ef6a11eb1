import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { ProviderError } from '../../core/errors.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ThinkSettings } from '../../protocol/agent-config.js';
import { guarded } from '../../providers/guard.js';
import { operatorBaseUrl } from '../../providers/keys.js';
import { openAiClient } from '../../providers/openai-client.js';
import { num, str, timeoutMs } from '../../providers/settings.js';
import type { ChatMessage, ThinkEvent, ThinkProvider, ThinkRequest, ToolCall, ToolDefinition } from '../types.js';
import { trimTrailingSlashes } from '../../core/url-path.js';

/** The OpenAI-compatible services Parley knows by `provider.type`. */
const FLAVOURS = {
  open_ai: { baseURL: 'https://api.openai.com/v1', model: 'gpt-4o-mini' },
  groq: { baseURL: 'https://api.groq.com/openai/v1', model: 'openai/gpt-oss-20b' },
  x_ai: { baseURL: 'https://api.x.ai/v1', model: 'grok-3-mini' },
} as const;

export type OpenAiFlavour = keyof typeof FLAVOURS;

/** `endpoint.url` is the full `/chat/completions` URL; the client wants the part before it. */
export function chatBaseUrl(url: string): { baseURL: string; query: Record<string, string> } {
  const parsed = new URL(url);
  const query = Object.fromEntries(parsed.searchParams);
  const path = trimTrailingSlashes(parsed.pathname).replace(/\/chat\/completions$/, '');
  return { baseURL: `${parsed.origin}${path}`, query };
}

export function toOpenAiMessages(messages: readonly ChatMessage[]): ChatCompletionMessageParam[] {
  return messages.map((m): ChatCompletionMessageParam => {
    switch (m.role) {
      case 'system':
      case 'user':
        return { role: m.role, content: m.content };
      case 'assistant':
        if (m.toolCalls === undefined || m.toolCalls.length === 0) return { role: 'assistant', content: m.content };
        return {
          role: 'assistant',
          content: m.content === '' ? null : m.content,
          tool_calls: m.toolCalls.map((c) => ({
            id: c.id,
            type: 'function' as const,
            function: { name: c.name, arguments: c.arguments },
          })),
        };
      case 'tool':
        return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    }
  });
}

export function toOpenAiTools(tools: readonly ToolDefinition[]): ChatCompletionTool[] {
  return tools.map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: t.parameters },
  }));
}

interface PartialCall {
  id: string;
  name: string;
  arguments: string;
}

/** Reasoning text that OpenAI-compatible servers (vLLM, Ollama, DeepSeek) put beside `content`. */
function reasoningOf(delta: ChatCompletionChunk.Choice.Delta): string | undefined {
  const extra = delta as { reasoning_content?: unknown; reasoning?: unknown };
  const text = extra.reasoning_content ?? extra.reasoning;
  return typeof text === 'string' && text !== '' ? text : undefined;
}

export function createOpenAiThink(flavour: OpenAiFlavour) {
  return (settings: ThinkSettings, context: ProviderContext): ThinkProvider => {
    const defaults = FLAVOURS[flavour];
    const { provider, endpoint } = settings;
    const fromEndpoint = endpoint === undefined ? undefined : chatBaseUrl(endpoint.url);
    const baseURL = fromEndpoint?.baseURL ?? operatorBaseUrl(flavour, context.env) ?? defaults.baseURL;
    const { client, apiKey } = openAiClient({ type: flavour, baseURL, endpoint, env: context.env, ...(fromEndpoint === undefined ? {} : { defaultQuery: fromEndpoint.query }) });
    const timeout = timeoutMs(provider, context.env);
    const model = provider.model ?? defaults.model;
    const label = `${flavour}/${model}`;

    async function* run(request: ThinkRequest, signal: AbortSignal): AsyncIterable<ThinkEvent> {
      const params: ChatCompletionCreateParamsStreaming = {
        model,
        messages: toOpenAiMessages(request.messages),
        stream: true,
      };
      const temperature = num(provider, 'temperature');
      if (temperature !== undefined) params.temperature = temperature;
      const effort = str(provider, 'reasoning_mode');
      if (effort !== undefined) params.reasoning_effort = effort as ChatCompletionCreateParamsStreaming['reasoning_effort'];
      if (request.tools.length > 0) params.tools = toOpenAiTools(request.tools);
      // The operator's own provider is asked for token counts (the usage record); a client's server may not know the option.
      if (endpoint === undefined) params.stream_options = { include_usage: true };

      const stream = await client.chat.completions.create(params, { signal });
      const calls = new Map<number, PartialCall>();
      let finished = false;
      for await (const chunk of stream) {
        // Servers that report usage in the stream (vLLM, Ollama, OpenAI's stream_options) send it in a chunk of its own.
        if (chunk.usage) context.reportTokens?.({ inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens });
        const choice = chunk.choices?.[0];
        if (choice === undefined) continue;
        const delta = choice.delta ?? {};
        const reasoning = reasoningOf(delta);
        if (reasoning !== undefined) yield { type: 'thinking', text: reasoning };
        if (typeof delta.content === 'string' && delta.content !== '') yield { type: 'text', text: delta.content };
        for (const part of delta.tool_calls ?? []) {
          const call = calls.get(part.index) ?? { id: '', name: '', arguments: '' };
          if (part.id) call.id = part.id;
          if (part.function?.name) call.name += part.function.name;
          if (part.function?.arguments) call.arguments += part.function.arguments;
          calls.set(part.index, call);
        }
        if (choice.finish_reason) finished = true;
      }
      if (!finished) throw new ProviderError('think', flavour, `${flavour}: stream ended before the reply was complete`);
      for (const [index, call] of [...calls].sort(([a], [b]) => a - b)) {
        yield { type: 'tool_call', call: completeCall(call, index) };
      }
    }

    return {
      label,
      stream: (request) =>
        guarded({ kind: 'think', provider: flavour, timeoutMs: timeout, secrets: [apiKey], signal: request.signal }, (signal) =>
          run(request, signal),
        ),
    };
  };
}

function completeCall(call: PartialCall, index: number): ToolCall {
  return {
    id: call.id === '' ? `call_${index}` : call.id,
    name: call.name,
    arguments: call.arguments === '' ? '{}' : call.arguments,
  };
}
