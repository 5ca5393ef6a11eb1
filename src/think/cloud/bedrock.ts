import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import type {
  ContentBlock,
  ConverseStreamCommandInput,
  Message,
  SystemContentBlock,
  Tool,
  ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { ProviderError } from '../../core/errors.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ThinkSettings } from '../../protocol/agent-config.js';
import { awsClientConfig } from '../../providers/aws.js';
import { guarded } from '../../providers/guard.js';
import { num, timeoutMs } from '../../providers/settings.js';
import type { ChatMessage, ThinkEvent, ThinkProvider, ThinkRequest } from '../types.js';
import { toTurns } from './turns.js';

/** The JSON document type of the AWS SDK, named through the client's own types. */
type DocumentType = NonNullable<ToolUseBlock['input']>;

const DEFAULT_MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const DEFAULT_MAX_TOKENS = 1024;

function parseDocument(text: string): DocumentType {
  try {
    return JSON.parse(text === '' ? '{}' : text) as DocumentType;
  } catch {
    return {};
  }
}

/** Converse keeps the system prompt apart and carries tool results as user content blocks. */
export function toBedrockMessages(messages: readonly ChatMessage[]): { system: SystemContentBlock[]; messages: Message[] } {
  const { system, turns } = toTurns<ContentBlock>(messages, {
    text: (text) => ({ text }),
    toolCall: (c) => ({ toolUse: { toolUseId: c.id, name: c.name, input: parseDocument(c.arguments) } }),
    toolResult: (m) => ({ toolResult: { toolUseId: m.toolCallId, content: [{ text: m.content }] } }),
  });
  return { system: system.map((text) => ({ text })), messages: turns.map((t) => ({ role: t.role, content: t.blocks })) };
}

export function createBedrockThink(settings: ThinkSettings, context: ProviderContext): ThinkProvider {
  const { provider, endpoint } = settings;
  const aws = awsClientConfig('aws_bedrock', provider, endpoint, context.env);
  const client = new BedrockRuntimeClient(aws.config);
  const timeout = timeoutMs(provider, context.env);
  const model = provider.model ?? DEFAULT_MODEL;

  async function* run(request: ThinkRequest, signal: AbortSignal): AsyncIterable<ThinkEvent> {
    const { system, messages } = toBedrockMessages(request.messages);
    const input: ConverseStreamCommandInput = {
      modelId: model,
      messages,
      inferenceConfig: { maxTokens: num(provider, 'max_tokens') ?? DEFAULT_MAX_TOKENS },
    };
    const temperature = num(provider, 'temperature');
    if (temperature !== undefined && input.inferenceConfig !== undefined) input.inferenceConfig.temperature = temperature;
    if (system.length > 0) input.system = system;
    if (request.tools.length > 0) {
      input.toolConfig = {
        tools: request.tools.map(
          (t): Tool => ({
            toolSpec: {
              name: t.name,
              description: t.description,
              inputSchema: { json: t.parameters as DocumentType },
            },
          }),
        ),
      };
    }
    const response = await client.send(new ConverseStreamCommand(input), { abortSignal: signal });
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    let stopped = false;
    for await (const event of response.stream ?? []) {
      if (event.contentBlockStart?.start?.toolUse !== undefined) {
        const start = event.contentBlockStart.start.toolUse;
        calls.set(event.contentBlockStart.contentBlockIndex ?? 0, { id: start.toolUseId ?? '', name: start.name ?? '', arguments: '' });
      } else if (event.contentBlockDelta?.delta !== undefined) {
        const { delta } = event.contentBlockDelta;
        const index = event.contentBlockDelta.contentBlockIndex ?? 0;
        if (typeof delta.text === 'string' && delta.text !== '') yield { type: 'text', text: delta.text };
        else if (typeof delta.reasoningContent?.text === 'string') yield { type: 'thinking', text: delta.reasoningContent.text };
        else if (delta.toolUse?.input !== undefined) {
          const call = calls.get(index);
          if (call !== undefined) call.arguments += delta.toolUse.input;
        }
      } else if (event.contentBlockStop !== undefined) {
        const index = event.contentBlockStop.contentBlockIndex ?? 0;
        const call = calls.get(index);
        if (call !== undefined) {
          calls.delete(index);
          yield { type: 'tool_call', call: { ...call, arguments: call.arguments === '' ? '{}' : call.arguments } };
        }
      } else if (event.messageStop !== undefined) {
        stopped = true;
      }
    }
    if (!stopped) throw new ProviderError('think', 'aws_bedrock', 'aws_bedrock: stream ended before the reply was complete');
  }

  return {
    label: `aws_bedrock/${model}`,
    stream: (request) =>
      guarded(
        { kind: 'think', provider: 'aws_bedrock', timeoutMs: timeout, secrets: aws.secrets, signal: request.signal },
        (signal) => run(request, signal),
      ),
    close: () => client.destroy(),
  };
}
