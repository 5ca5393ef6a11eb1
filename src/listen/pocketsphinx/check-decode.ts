// The check of a grammar's reading (grammar-check.ts): the phone loop's decode and the grammar's
// again, both scored against every senone, and the open LM's when the reading does not stand by
// the phone loop alone. The open LM's costs several times the grammar's decode, so checks run
// as 'listen.check' jobs on threads of their own: on the live listening threads they held every
// other session of the thread back (20 sessions: answers 3.4 s after speech instead of 0.5 s).
import { PocketsphinxDecoder } from './decoder.js';
import { agreedText, grammarStands, grammarStandsBeside } from './grammar-check.js';
import type { GrammarCheck } from './listen-job.js';

export const LISTEN_CHECK_JOB_KIND = 'listen.check';

/** This thread's phone loop and word decoder, loaded with its first check; one check runs at a time. */
let scorers: { phones: PocketsphinxDecoder; words: PocketsphinxDecoder } | undefined;

/**
 * What was heard: the grammar's reading when it fits the speech nearly as well as free phones
 * do (or, failing that, nearly as well as the open LM's reading), or when the open LM agrees
 * with it; else the open LM's own. Each decode normalizes as the live one did, so the open LM
 * hears a session's utterance as it would without a grammar (the same transcript, and the same
 * WER), and the grammar's words are those heard live.
 */
export function checkedText(check: GrammarCheck): string {
  return checkReading(check).text;
}

/** checkedText, and whether the open LM had to decode the utterance (the costly part). */
export function checkReading({ text, grammar, audio, mean, pieces }: GrammarCheck): { text: string; openLm: boolean } {
  scorers ??= { phones: PocketsphinxDecoder.loadPhoneLoop(), words: PocketsphinxDecoder.load(undefined, { scoreAllSenones: true }) };
  if (text === '') return { text: scorers.words.decode('lm', audio, mean, pieces).text, openLm: true };
  // The live decode's score was relative to the senones its search touched: decode again.
  const scored = scorers.words.decode({ jsgf: grammar }, audio, mean, pieces);
  const phones = scorers.phones.decode('phones', audio, mean, pieces);
  if (grammarStands(scored, phones)) return { text, openLm: false };
  const lm = scorers.words.decode('lm', audio, mean, pieces);
  return { text: grammarStandsBeside(scored, phones, lm) ? text : agreedText(text, lm.text), openLm: true };
}
