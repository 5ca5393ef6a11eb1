import { randomUUID } from 'node:crypto';
import { GoogleGenAI } from '@google/genai';
import type { Content, GenerateContentConfig, Part } from '@google/genai';
import { ProviderError } from '../../core/errors.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ThinkSettings } from '../../protocol/agent-config.js';
import { guarded } from '../../providers/guard.js';
import { outboundGuard } from '../../providers/outbound.js';
import { serverKeyFor } from '../../providers/keys.js';
import { header, headersWithout, num, str, timeoutMs } from '../../providers/settings.js';
import type { ChatMessage, ThinkEvent, ThinkProvider, ThinkRequest } from '../types.js';
import { toTurns } from './turns.js';
import { trimTrailingSlashes } from '../../core/url-path.js';

const DEFAULT_MODEL = 'gemini-2.5-flash';
const DEFAULT_BASE = 'https://generativelanguage.googleapis.com';

/** Settings `version` names (the protocol's Google think settings) mapped to the REST API version they stand for. */
function apiVersion(version: string | undefined): string {
  if (version === undefined || version === 'ai-studio-v1beta') return 'v1beta';
  return version.startsWith('v1') ? version : 'v1beta';
}

/**
 * A BYO endpoint is the full `.../{version}/models/{model}:streamGenerateContent` URL: the model
 * lives in the URL, so split it into what the client library builds the URL from.
 */
export function parseGeminiUrl(url: string): { baseUrl: string; apiVersion?: string; model?: string; key?: string } {
  const parsed = new URL(url);
  const key = parsed.searchParams.get('key') ?? undefined;
  const match = /^(.*?)\/(v1[^/]*)\/models\/([^/:]+)/.exec(parsed.pathname);
  const base = (path: string): string => `${parsed.origin}${trimTrailingSlashes(path)}`;
  if (match === null) return { baseUrl: base(parsed.pathname), ...(key === undefined ? {} : { key }) };
  return { baseUrl: base(match[1] ?? ''), apiVersion: match[2], model: match[3], ...(key === undefined ? {} : { key }) };
}

function parseArgs(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Gemini wants an object as a function response; plain text results are wrapped. */
function responseObject(content: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(content);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Not JSON: wrapped below.
  }
  return { result: content };
}

export function toGeminiContents(messages: readonly ChatMessage[]): { system: string; contents: Content[] } {
  const { system, turns } = toTurns<Part>(messages, {
    text: (text) => ({ text }),
    toolCall: (c) => ({
      functionCall: { id: c.id, name: c.name, args: parseArgs(c.arguments) },
      ...(c.thoughtSignature === undefined ? {} : { thoughtSignature: c.thoughtSignature }),
    }),
    toolResult: (m) => ({ functionResponse: { id: m.toolCallId, name: m.name, response: responseObject(m.content) } }),
  });
  return { system: system.join('\n\n'), contents: turns.map((t) => ({ role: t.role === 'assistant' ? 'model' : 'user', parts: t.blocks })) };
}

export function createGoogleThink(settings: ThinkSettings, context: ProviderContext): ThinkProvider {
  const { provider, endpoint } = settings;
  const byo = endpoint === undefined ? undefined : parseGeminiUrl(endpoint.url);
  const baseUrl = byo?.baseUrl ?? DEFAULT_BASE;
  const apiKey = header(endpoint, 'x-goog-api-key') ?? byo?.key ?? serverKeyFor('google', baseUrl, context.env) ?? 'none';
  const timeout = timeoutMs(provider, context.env);
  const client = new GoogleGenAI({
    apiKey,
    httpOptions: {
      baseUrl,
      apiVersion: byo?.apiVersion ?? apiVersion(str(provider, 'version')),
      headers: headersWithout(endpoint, ['x-goog-api-key']),
      retryOptions: { attempts: 1 },
      fetch: outboundGuard(context.env).fetch,
    },
  });
  const model = byo?.model ?? provider.model ?? DEFAULT_MODEL;

  async function* run(request: ThinkRequest, signal: AbortSignal): AsyncIterable<ThinkEvent> {
    const { system, contents } = toGeminiContents(request.messages);
    const config: GenerateContentConfig = { abortSignal: signal };
    if (system !== '') config.systemInstruction = system;
    const temperature = num(provider, 'temperature');
    if (temperature !== undefined) config.temperature = temperature;
    if (request.tools.length > 0) {
      config.tools = [
        {
          functionDeclarations: request.tools.map((t) => ({
            name: t.name,
            description: t.description,
            parametersJsonSchema: t.parameters,
          })),
        },
      ];
    }
    const stream = await client.models.generateContentStream({ model, contents, config });
    let finished = false;
    for await (const chunk of stream) {
      const candidate = chunk.candidates?.[0];
      for (const part of candidate?.content?.parts ?? []) {
        if (part.functionCall !== undefined) {
          const call = part.functionCall;
          yield {
            type: 'tool_call',
            call: {
              // Gemini API omits call ids; the session needs one to pair the result with its call.
              id: call.id ?? `call_${randomUUID()}`,
              name: call.name ?? '',
              arguments: JSON.stringify(call.args ?? {}),
              ...(part.thoughtSignature === undefined ? {} : { thoughtSignature: part.thoughtSignature }),
            },
          };
        } else if (typeof part.text === 'string' && part.text !== '') {
          yield { type: part.thought === true ? 'thinking' : 'text', text: part.text };
        }
      }
      if (candidate?.finishReason !== undefined) finished = true;
    }
    if (!finished) throw new ProviderError('think', 'google', 'google: stream ended before the reply was complete');
  }

  return {
    label: `google/${model}`,
    stream: (request) =>
      guarded({ kind: 'think', provider: 'google', timeoutMs: timeout, secrets: [apiKey], signal: request.signal }, (signal) =>
        run(request, signal),
      ),
  };
}
