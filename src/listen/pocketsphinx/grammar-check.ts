// A JSGF grammar forces any speech onto one of its sentences ("you have been removed from the
// conference" came out as "is it hot in london"). Its reading is kept when its words fill the
// speech at a talker's pace (forcing maps long speech onto a few grammar words, while a command
// is a short fluent phrase), or else when the open language model heard much the same words;
// otherwise the transcript is the open model's. The open model alone misses most commands said by
// a synthetic voice ("what time is it" as "but i read it"), so agreement alone rejected almost
// all of them, and it costs eight times the grammar's decode, so it runs only when the pace does
// not settle it, on threads of its own (check-decode.ts). bench/engines/rules-recognition.ts
// measures both rates.
import type { Reading } from './decoder.js';

/** Share of the grammar's words the LM hypothesis may differ by (word edits / grammar words). */
export const MAX_GRAMMAR_MISMATCH = 0.5;

const words = (text: string): string[] => text.split(/\s+/).filter((w) => w !== '');

/** Word-level Levenshtein distance. */
export function wordEdits(from: readonly string[], to: readonly string[]): number {
  let previous = Array.from({ length: to.length + 1 }, (_, j) => j);
  for (let i = 1; i <= from.length; i++) {
    const row = [i];
    for (let j = 1; j <= to.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (from[i - 1] === to[j - 1] ? 0 : 1);
      row.push(Math.min(substitution, (previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1));
    }
    previous = row;
  }
  return previous[to.length] ?? 0;
}

/** How a grammar's reading of an utterance compares with the phone loop's (free phones, no words). */
export interface GrammarFit {
  /** Score per frame below the phone loop's (the decoder's log units; 0 = as likely as free phones). */
  lossPerFrame: number;
  /** Share of the phone loop's speech (first to last phone that is not silence) the grammar's words span. */
  coverage: number;
}

export function grammarFit(grammar: Reading, phones: Reading): GrammarFit {
  const speech = phones.from < 0 ? 0 : phones.to - phones.from + 1;
  const words = grammar.from < 0 ? 0 : grammar.to - grammar.from + 1;
  return {
    lossPerFrame: (phones.score - grammar.score) / Math.max(1, grammar.frames),
    coverage: speech === 0 ? 0 : Math.min(1, words / speech),
  };
}

export const MAX_LOSS_PER_FRAME = 25;
export const MIN_COVERAGE = 0.8;

/** True when the grammar's reading stands without the open LM's. */
export function grammarStands(grammar: Reading, phones: Reading): boolean {
  if (words(grammar.text).length === 0) return false;
  const fit = grammarFit(grammar, phones);
  return fit.lossPerFrame <= MAX_LOSS_PER_FRAME && fit.coverage >= MIN_COVERAGE;
}

/** What was heard, given both readings: the grammar's when the open LM's agrees with it, else the LM's. */
export function agreedText(grammarText: string, lmText: string): string {
  const grammar = words(grammarText);
  if (grammar.length === 0) return lmText;
  return wordEdits(grammar, words(lmText)) <= MAX_GRAMMAR_MISMATCH * grammar.length ? grammarText : lmText;
}
