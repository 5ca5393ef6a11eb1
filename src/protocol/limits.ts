import type { WarningNotice } from './errors.js';

/**
 * Bounds on what a client controls inside its messages (docs/protocol-decisions.md#message-limits).
 * Frame sizes are bounded before a frame is read (docs/protocol-decisions.md#frame-size-limits).
 */
export interface ClientLimits {
  /** Deepest nesting of objects and arrays in one message. */
  maxJsonDepth: number;
  /** Longest text the agent is given to say or the user is made to have said: injections and the greeting. */
  maxInjectChars: number;
  /** Most functions one think provider may define. */
  maxFunctions: number;
  /** Characters of conversation a session keeps; the oldest items go first. */
  maxConversationChars: number;
  /** Most `queue` agent messages waiting behind the agent's current reply. */
  maxQueuedInjections: number;
}

export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimits> = {
  maxJsonDepth: 64,
  maxInjectChars: 25_000,
  maxFunctions: 128,
  maxConversationChars: 500_000,
  maxQueuedInjections: 16,
};

/**
 * Whether the text's objects and arrays nest deeper than `max`. It runs on the raw text before
 * JSON.parse, because zod and structured clone recurse and a deep value overflows their stack;
 * JSON has no depth option anywhere, hence this scan. Brackets inside strings do not count.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/**
 * Cuts a text to at most `max` characters, never between the halves of a surrogate pair; the
 * warning says what was cut (PROMPT_TOO_LONG: docs/protocol-decisions.md#message-limits).
 */
export function cutText(text: string, max: number, what: string): { text: string; warning?: WarningNotice } {
  if (text.length <= max) return { text };
  const high = text.charCodeAt(max - 1);
  const end = high >= 0xd800 && high <= 0xdbff ? max - 1 : max;
  return {
    text: text.slice(0, end),
    warning: { code: 'PROMPT_TOO_LONG', description: `${what} has ${text.length} characters; only the first ${max} are used.` },
  };
}
