import type { FunctionCallRecord, HistoryItem } from '../protocol/agent-config.js';
import type { WarningNotice } from '../protocol/errors.js';
import { DEFAULT_CLIENT_LIMITS } from '../protocol/limits.js';
import { MAX_PROMPT_CHARS } from '../protocol/normalize.js';
import type { ChatMessage } from '../think/types.js';

/**
 * The conversation as the LLM will see it next: the system prompt, what the user said, what the
 * user actually HEARD of the agent (barge-in truncates), and completed function calls.
 */
export class Conversation {
  private readonly items: HistoryItem[] = [];
  private chars = 0;

  constructor(
    private prompt: string,
    /** Characters of history sent to the LLM ('max' or undefined: everything kept). */
    private contextLength?: number | 'max',
    /** Characters of history kept at all (docs/protocol-decisions.md#conversation-kept-per-session). */
    private readonly maxChars = DEFAULT_CLIENT_LIMITS.maxConversationChars,
  ) {}

  /**
   * UpdatePrompt appends (docs/protocol-decisions.md#updateprompt-appends). The whole prompt stays
   * within the limit Settings has (docs/protocol-decisions.md#prompt-length-limit), so no client
   * grows it without end; the warning says when an append was cut.
   */
  appendPrompt(text: string): WarningNotice | undefined {
    const whole = this.prompt === '' ? text : `${this.prompt}\n${text}`;
    if (whole.length <= MAX_PROMPT_CHARS) {
      this.prompt = whole;
      return undefined;
    }
    this.prompt = whole.slice(0, MAX_PROMPT_CHARS);
    return {
      code: 'PROMPT_TOO_LONG',
      description: `With this update the prompt would have ${whole.length} characters; only the first ${MAX_PROMPT_CHARS} are used.`,
    };
  }

  replaceSettings(prompt: string, contextLength?: number | 'max'): void {
    this.prompt = prompt;
    this.contextLength = contextLength;
  }

  add(item: HistoryItem): void {
    if (item.kind === 'text' && item.content.trim() === '') return;
    this.items.push(item);
    this.chars += itemSize(item);
    // The oldest items go first; the newest is always kept, so the LLM hears the latest turn.
    while (this.chars > this.maxChars && this.items.length > 1) {
      this.chars -= itemSize(this.items.shift());
    }
  }

  snapshot(): readonly HistoryItem[] {
    return this.items;
  }

  /**
   * Chat messages for the next LLM request, oldest history dropped past contextLength; with
   * `next`, as they will be once it is added (an eager reply thinks before its turn is added).
   */
  toMessages(next?: HistoryItem): ChatMessage[] {
    const messages = (next === undefined ? this.items : [...this.items, next]).flatMap(itemMessages);
    const kept = this.trim(messages);
    return this.prompt === '' ? kept : [{ role: 'system', content: this.prompt }, ...kept];
  }

  private trim(messages: ChatMessage[]): ChatMessage[] {
    const limit = this.contextLength;
    if (limit === undefined || limit === 'max') return messages;
    let total = 0;
    let start = messages.length;
    while (start > 0) {
      const size = messageSize(messages[start - 1]);
      if (total + size > limit && start < messages.length) break;
      total += size;
      start--;
    }
    // A tool result must not lose the assistant message that asked for it.
    while (start < messages.length && messages[start]?.role === 'tool') start++;
    return messages.slice(start);
  }
}

function itemSize(item: HistoryItem | undefined): number {
  if (item === undefined) return 0;
  if (item.kind === 'text') return item.content.length;
  return item.calls.reduce((n, c) => n + c.id.length + c.name.length + c.arguments.length + c.response.length, 0);
}

function messageSize(message: ChatMessage | undefined): number {
  if (message === undefined) return 0;
  if (message.role === 'assistant') {
    return message.content.length + (message.toolCalls ?? []).reduce((n, c) => n + c.arguments.length + c.name.length, 0);
  }
  return message.content.length;
}

export function functionCallMessages(calls: readonly FunctionCallRecord[]): ChatMessage[] {
  return [
    {
      role: 'assistant',
      content: '',
      toolCalls: calls.map((c) => ({
        id: c.id,
        name: c.name,
        arguments: c.arguments,
        ...(c.thoughtSignature === undefined ? {} : { thoughtSignature: c.thoughtSignature }),
      })),
    },
    ...calls.map((c): ChatMessage => ({ role: 'tool', toolCallId: c.id, name: c.name, content: c.response })),
  ];
}

function itemMessages(item: HistoryItem): ChatMessage[] {
  return item.kind === 'text' ? [{ role: item.role, content: item.content }] : functionCallMessages(item.calls);
}
