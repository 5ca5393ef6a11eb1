// A JSGF grammar forces any speech onto one of its sentences ("you have been removed from the
// conference" came out as "is it hot in london"), so its reading is kept only when the open
// language model heard much the same words, or when the two readings are alike in length and the
// grammar's words fill the speech at a talker's pace: forcing maps long speech onto a few grammar
// words, while a command is a short fluent phrase. The open model alone misses most commands
// said by a synthetic voice ("what time is it" as "but i read it"), so agreement alone rejected
// almost all of them. bench/engines/rules-recognition.ts measures both rates.

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

/** The open LM's reading may have this many words per grammar word (plus half a word) and still be alike. */
const MAX_LENGTH_RATIO = 1.34;
/** Grammar words per second of speech below which the grammar is taken to have squeezed other speech. */
const MIN_WORDS_PER_SECOND = 2.5;

/**
 * What was heard: the grammar's reading when the open LM agrees with it, or is as long and the
 * grammar's words come at a talker's pace over `speechMs`; else the LM's own.
 */
export function heardText(grammarText: string, lmText: string, speechMs: number): string {
  const grammar = words(grammarText);
  if (grammar.length === 0) return lmText;
  const lm = words(lmText);
  if (wordEdits(grammar, lm) <= MAX_GRAMMAR_MISMATCH * grammar.length) return grammarText;
  const alike = lm.length <= MAX_LENGTH_RATIO * grammar.length + 0.5;
  const pace = grammar.length / Math.max(0.3, speechMs / 1000);
  return alike && pace >= MIN_WORDS_PER_SECOND ? grammarText : lmText;
}
