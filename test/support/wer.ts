// Word error rate as the engine measurements count it: lower-case words, punctuation stripped, digits and
// "mr" spelled out, Levenshtein distance over words.
import { wordEdits } from '../../src/listen/pocketsphinx/grammar-check.js';

const NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => (w === 'mr' ? 'mister' : /^\d+$/.test(w) && Number(w) <= 10 ? (NUMBERS[Number(w)] ?? w) : w));
}

/** Word edits needed to turn `hypothesis` into `reference`. */
export function wordErrors(reference: string, hypothesis: string): { errors: number; words: number } {
  const ref = normalizeWords(reference);
  return { errors: wordEdits(ref, normalizeWords(hypothesis)), words: ref.length };
}
