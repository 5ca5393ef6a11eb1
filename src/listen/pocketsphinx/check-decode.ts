// The check of a grammar's reading (grammar-check.ts): the phone loop's decode, and the open LM's
// when the grammar's reading does not stand by it. The open LM's costs about eight times the
// grammar's decode, so checks run as 'listen.check' jobs on threads of their own: on the live
// listening threads they held every other session of the thread back (20 sessions: answers 3.4 s
// after speech instead of 0.5 s).
import { PocketsphinxDecoder, releaseDecoder, tryAcquireDecoder } from './decoder.js';
import { agreedText, grammarStands, grammarStandsBeside } from './grammar-check.js';
import type { GrammarCheck } from './listen-job.js';

export const LISTEN_CHECK_JOB_KIND = 'listen.check';

/** This thread's phone loop, loaded with its first check. */
let phoneLoop: PocketsphinxDecoder | undefined;

/**
 * What was heard: the grammar's reading when it fits the speech nearly as well as free phones do
 * (or, failing that, nearly as well as the open LM's reading), or when the open LM agrees with it;
 * else the open LM's own. Each decode normalizes as the grammar's did, so the open LM hears a
 * session's utterance as it would without a grammar (the same transcript, and the same WER).
 */
export function checkedText(check: GrammarCheck): string {
  return checkReading(check).text;
}

/** checkedText, and whether the open LM had to decode the utterance (the costly part). */
export function checkReading({ reading, audio, mean, pieces }: GrammarCheck): { text: string; openLm: boolean } {
  phoneLoop ??= PocketsphinxDecoder.loadPhoneLoop();
  const phones = phoneLoop.decode('phones', audio, mean, pieces);
  if (grammarStands(reading, phones)) return { text: reading.text, openLm: false };
  // One check at a time per thread: a decoder is always free.
  const decoder = tryAcquireDecoder();
  if (decoder === undefined) throw new Error('no pocketsphinx decoder is free for the grammar check');
  try {
    const lm = decoder.decode('lm', audio, mean, pieces);
    return { text: grammarStandsBeside(reading, phones, lm) ? reading.text : agreedText(reading.text, lm.text), openLm: true };
  } finally {
    releaseDecoder(decoder);
  }
}
