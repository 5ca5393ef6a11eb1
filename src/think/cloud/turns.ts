import type { ChatMessage, ToolCall } from '../types.js';

/** How one provider spells the pieces of a turn. */
export interface TurnBlocks<Block> {
  text(text: string): Block;
  toolCall(call: ToolCall): Block;
  toolResult(result: Extract<ChatMessage, { role: 'tool' }>): Block;
}

export interface Turns<Block> {
  /** The system prompts, non-empty, in order. */
  system: string[];
  turns: { role: 'user' | 'assistant'; blocks: Block[] }[];
}

/**
 * Chat history as the alternating user/assistant turns that Anthropic, Bedrock and Gemini want:
 * the system prompt apart, tool results as user blocks right after the assistant's calls, and
 * consecutive same-role turns joined (those APIs refuse two in a row).
 */
export function toTurns<Block>(messages: readonly ChatMessage[], blocks: TurnBlocks<Block>): Turns<Block> {
  const system: string[] = [];
  const turns: Turns<Block>['turns'] = [];
  const push = (role: 'user' | 'assistant', added: Block[]): void => {
    if (added.length === 0) return;
    const last = turns.at(-1);
    if (last !== undefined && last.role === role) last.blocks.push(...added);
    else turns.push({ role, blocks: added });
  };
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        if (m.content !== '') system.push(m.content);
        break;
      case 'user':
        push('user', m.content === '' ? [] : [blocks.text(m.content)]);
        break;
      case 'assistant':
        push('assistant', [...(m.content === '' ? [] : [blocks.text(m.content)]), ...(m.toolCalls ?? []).map((c) => blocks.toolCall(c))]);
        break;
      case 'tool':
        push('user', [blocks.toolResult(m)]);
        break;
    }
  }
  return { system, turns };
}
