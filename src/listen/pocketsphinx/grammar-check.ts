// A JSGF grammar forces any speech onto one of its sentences ("you have been removed from the
// conference" came out as "is it hot in london"). Its reading is kept when its words fill the
// speech at a talker's pace (forcing maps long speech onto a few grammar words, while a command
// is a short fluent phrase), or else when the open language model heard much the same words;
// otherwise the transcript is the open model's. The open model alone misses most commands said by
// a synthetic voice ("what time is it" as "but i read it"), so agreement alone rejected almost
// all of them, and it costs eight times the grammar's decode, so it runs only when the pace does
// not settle it, on threads of its own (check-decode.ts). bench/engines/rules-recognition.ts
// measures both rates.

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

/** Grammar words per second of speech at or above which the grammar's reading stands. */
const MIN_WORDS_PER_SECOND = 2.5;

/** True when the grammar's reading of `speechMs` of speech stands without the open LM's. */
export function grammarStands(grammarText: string, speechMs: number): boolean {
  const grammar = words(grammarText);
  return grammar.length > 0 && grammar.length / Math.max(0.3, speechMs / 1000) >= MIN_WORDS_PER_SECOND;
}

/** What was heard, given both readings: the grammar's when the open LM's agrees with it, else the LM's. */
export function agreedText(grammarText: string, lmText: string): string {
  const grammar = words(grammarText);
  if (grammar.length === 0) return lmText;
  return wordEdits(grammar, words(lmText)) <= MAX_GRAMMAR_MISMATCH * grammar.length ? grammarText : lmText;
}
