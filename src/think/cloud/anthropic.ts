import Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import { ProviderError } from '../../core/errors.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ThinkSettings } from '../../protocol/agent-config.js';
import { guarded } from '../../providers/guard.js';
import { outboundGuard } from '../../providers/outbound.js';
import { keyMayGoTo, operatorBaseUrl, serverKeyFor } from '../../providers/keys.js';
import { dropEnvHeaders } from '../../providers/sdk-env.js';
import { bearer, header, headersWithout, num, timeoutMs } from '../../providers/settings.js';
import type { ChatMessage, ThinkEvent, ThinkProvider, ThinkRequest, ToolDefinition } from '../types.js';
import { toTurns } from './turns.js';
import { trimTrailingSlashes } from '../../core/url-path.js';

const DEFAULT_MODEL = 'claude-haiku-4-5';
const DEFAULT_MAX_TOKENS = 1024;
const DEFAULT_BASE = 'https://api.anthropic.com';

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text === '' ? '{}' : text);
  } catch {
    return {};
  }
}

/**
 * Anthropic takes the system prompt apart, wants tool results inside a user turn right after the
 * tool_use turn, and merges nothing itself: consecutive same-role turns are joined here.
 */
export function toAnthropicMessages(messages: readonly ChatMessage[]): { system: string; messages: MessageParam[] } {
  const { system, turns } = toTurns<ContentBlockParam>(messages, {
    text: (text) => ({ type: 'text', text }),
    toolCall: (c) => ({ type: 'tool_use', id: c.id, name: c.name, input: parseArguments(c.arguments) }),
    toolResult: (m) => ({ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content }),
  });
  return { system: system.join('\n\n'), messages: turns.map((t) => ({ role: t.role, content: t.blocks })) };
}

export function toAnthropicTools(tools: readonly ToolDefinition[]): Tool[] {
  return tools.map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: { type: 'object', ...t.parameters },
  }));
}

/** `endpoint.url` may be the full `/v1/messages` URL; the client appends that path itself. */
function baseUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${trimTrailingSlashes(parsed.pathname).replace(/\/v1\/messages$/, '')}`;
}

export function createAnthropicThink(settings: ThinkSettings, context: ProviderContext): ThinkProvider {
  const { provider, endpoint } = settings;
  const base = endpoint === undefined ? (operatorBaseUrl('anthropic', context.env) ?? DEFAULT_BASE) : baseUrl(endpoint.url);
  const authToken = header(endpoint, 'authorization');
  const apiKey = header(endpoint, 'x-api-key') ?? (authToken === undefined ? serverKeyFor('anthropic', base, context.env) : undefined);
  const token = bearer(authToken);
  const timeout = timeoutMs(provider, context.env);
  const client = new Anthropic({
    ...(apiKey !== undefined || token === undefined ? { apiKey: apiKey ?? 'none' } : { authToken: token }),
    baseURL: base,
    // Away from home, the SDK's own ANTHROPIC_CUSTOM_HEADERS (read from process.env) stay home too.
    defaultHeaders: {
      ...(keyMayGoTo('anthropic', base, context.env) ? {} : dropEnvHeaders('ANTHROPIC_CUSTOM_HEADERS')),
      ...headersWithout(endpoint, ['authorization', 'x-api-key']),
    },
    maxRetries: 0,
    fetch: outboundGuard(context.env).fetch,
    // The Watchdog owns timeouts: the client's own timer would end the stream silently.
    logLevel: 'off',
  });
  const model = provider.model ?? DEFAULT_MODEL;

  async function* run(request: ThinkRequest, signal: AbortSignal): AsyncIterable<ThinkEvent> {
    const { system, messages } = toAnthropicMessages(request.messages);
    // This SDK version no longer types `temperature`, but the API still honours it.
    const params: MessageCreateParamsStreaming & { temperature?: number } = {
      model,
      max_tokens: num(provider, 'max_tokens') ?? DEFAULT_MAX_TOKENS,
      messages,
      stream: true,
    };
    if (system !== '') params.system = system;
    const temperature = num(provider, 'temperature');
    if (temperature !== undefined) params.temperature = temperature;
    if (request.tools.length > 0) params.tools = toAnthropicTools(request.tools);

    const stream = await client.messages.create(params, { signal });
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    let stopped = false;
    let inputTokens = 0;
    let outputTokens = 0;
    for await (const event of stream) {
      switch (event.type) {
        case 'content_block_start':
          if (event.content_block.type === 'tool_use') {
            calls.set(event.index, { id: event.content_block.id, name: event.content_block.name, arguments: '' });
          }
          break;
        case 'content_block_delta': {
          const delta = event.delta;
          if (delta.type === 'text_delta' && delta.text !== '') yield { type: 'text', text: delta.text };
          else if (delta.type === 'thinking_delta' && delta.thinking !== '') yield { type: 'thinking', text: delta.thinking };
          else if (delta.type === 'input_json_delta') {
            const call = calls.get(event.index);
            if (call !== undefined) call.arguments += delta.partial_json;
          }
          break;
        }
        case 'content_block_stop': {
          const call = calls.get(event.index);
          if (call !== undefined) {
            calls.delete(event.index);
            yield { type: 'tool_call', call: { ...call, arguments: call.arguments === '' ? '{}' : call.arguments } };
          }
          break;
        }
        case 'message_start':
          inputTokens = event.message.usage?.input_tokens ?? 0;
          break;
        case 'message_delta':
          // The count so far, not an increment: reported once, at the end.
          outputTokens = event.usage?.output_tokens ?? outputTokens;
          break;
        case 'message_stop':
          stopped = true;
          context.reportTokens?.({ inputTokens, outputTokens });
          break;
        default:
          break;
      }
    }
    if (!stopped) throw new ProviderError('think', 'anthropic', 'anthropic: stream ended before the reply was complete');
  }

  return {
    label: `anthropic/${model}`,
    stream: (request) =>
      guarded(
        { kind: 'think', provider: 'anthropic', timeoutMs: timeout, secrets: [apiKey, token], signal: request.signal },
        (signal) => run(request, signal),
      ),
  };
}
