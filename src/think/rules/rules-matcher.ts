// Finds the intent a user's words express: every pattern is matched as a run of whole words
// anywhere in the utterance (STT output is noisy), and the pattern with most literal words wins.
import type { Intent, Rules } from './rules-schema.js';

export interface IntentMatch {
  intent: Intent;
  slots: Record<string, string>;
}

interface CompiledPattern {
  intent: Intent;
  regex: RegExp;
  slotNames: string[];
  literalWords: number;
}

/** Contractions a typed or cloud-transcribed message may hold, spelled as patterns are. */
const CONTRACTIONS: Record<string, string> = {
  "what's": 'what is',
  "how's": 'how is',
  "it's": 'it is',
  "that's": 'that is',
  "where's": 'where is',
  "who's": 'who is',
  "i'm": 'i am',
  "you're": 'you are',
  "don't": 'do not',
  "can't": 'cannot',
};

/** Lower case, contractions spelled out, other punctuation and extra spaces gone. */
export function normalizeUtterance(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '')
    .map((word) => CONTRACTIONS[word] ?? word)
    .join(' ');
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class RulesMatcher {
  private readonly patterns: CompiledPattern[];

  constructor(rules: Rules) {
    this.patterns = rules.intents.flatMap((intent) => intent.patterns.map((p) => compile(intent, p, rules.slots)));
  }

  match(utterance: string): IntentMatch | undefined {
    const text = normalizeUtterance(utterance);
    let best: { pattern: CompiledPattern; groups: RegExpExecArray } | undefined;
    for (const pattern of this.patterns) {
      const groups = pattern.regex.exec(text);
      if (groups !== null && (best === undefined || pattern.literalWords > best.pattern.literalWords)) best = { pattern, groups };
    }
    if (best === undefined) return undefined;
    const slots: Record<string, string> = {};
    best.pattern.slotNames.forEach((name, i) => {
      slots[name] = (best.groups[i + 1] ?? '').trim();
    });
    return { intent: best.pattern.intent, slots };
  }
}

function compile(intent: Intent, pattern: string, vocabularies: Rules['slots']): CompiledPattern {
  const slotNames: string[] = [];
  let literalWords = 0;
  const parts = pattern.split(/(\{[a-z_][a-z0-9_]*\})/i).map((part) => {
    const slot = /^\{(.+)\}$/.exec(part)?.[1];
    if (slot !== undefined) {
      slotNames.push(slot);
      const words = vocabularies[slot]?.map(normalizeUtterance).sort((a, b) => b.length - a.length);
      return words === undefined ? '(.+?)' : `(${words.map(escape).join('|')})`;
    }
    const literal = normalizeUtterance(part);
    literalWords += literal === '' ? 0 : literal.split(' ').length;
    return literal === '' ? ' ' : escape(` ${literal} `);
  });
  // Words are matched whole: the utterance is searched with a space on each side.
  const body = parts.join('').replace(/ +/g, ' ').trim().replace(/ /g, '\\s+');
  return { intent, regex: new RegExp(`(?:^|\\s)${body}(?:\\s|$)`), slotNames, literalWords };
}
