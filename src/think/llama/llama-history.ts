import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions, ChatModelResponse, GbnfJsonSchema } from 'node-llama-cpp';
import type { ChatMessage, ToolDefinition } from '../types.js';

const SCHEMA_KEYS = new Set([
  'type', 'properties', 'required', 'enum', 'const', 'items', 'description', 'oneOf', 'additionalProperties',
  'minItems', 'maxItems', 'minLength', 'maxLength', 'minimum', 'maximum', 'format',
]);

/** Keeps the JSON Schema keywords node-llama-cpp's grammar builder knows; drops the rest. */
export function toGrammarSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toGrammarSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    if (key === 'anyOf') out['oneOf'] = toGrammarSchema(value);
    else if (key === 'properties' && value !== null && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toGrammarSchema(sub)]));
    } else if (SCHEMA_KEYS.has(key)) out[key] = toGrammarSchema(value);
  }
  return out;
}

/** Tool definitions as node-llama-cpp functions; a tool without properties takes no params. */
export function toLlamaFunctions(tools: readonly ToolDefinition[]): ChatModelFunctions | undefined {
  if (tools.length === 0) return undefined;
  const functions: Record<string, { description?: string; params?: GbnfJsonSchema }> = {};
  for (const tool of tools) {
    const props = tool.parameters['properties'];
    const hasParams = props !== null && typeof props === 'object' && Object.keys(props).length > 0;
    functions[tool.name] = hasParams
      ? { description: tool.description, params: toGrammarSchema({ type: 'object', ...tool.parameters }) as GbnfJsonSchema }
      : { description: tool.description };
  }
  return functions;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The conversation in node-llama-cpp's shape, ending with the empty model turn to generate.
 * Tool results are folded into the assistant turn that called them, as the chat wrappers expect.
 */
export function toLlamaHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const results = new Map<string, string>();
  for (const m of messages) if (m.role === 'tool') results.set(m.toolCallId, m.content);
  const history: ChatHistoryItem[] = [];
  const modelTurn = (): ChatModelResponse => {
    const last = history.at(-1);
    if (last?.type === 'model') return last;
    const turn: ChatModelResponse = { type: 'model', response: [] };
    history.push(turn);
    return turn;
  };
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        history.push({ type: 'system', text: m.content });
        break;
      case 'user':
        history.push({ type: 'user', text: m.content });
        break;
      case 'assistant': {
        const turn = modelTurn();
        if (m.content !== '') turn.response.push(m.content);
        for (const call of m.toolCalls ?? []) {
          const item: ChatModelFunctionCall = {
            type: 'functionCall',
            name: call.name,
            params: parseJson(call.arguments),
            result: parseJson(results.get(call.id) ?? ''),
          };
          turn.response.push(item);
        }
        break;
      }
      case 'tool':
        break;
    }
  }
  const last = history.at(-1);
  // A reply that ended in tool calls continues in the same model turn, after the results.
  const endsWithCalls = last?.type === 'model' && last.response.at(-1) !== undefined && typeof last.response.at(-1) === 'object';
  if (last?.type !== 'model' || !endsWithCalls) history.push({ type: 'model', response: [] });
  return history;
}
