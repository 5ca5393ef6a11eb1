// The open-LM decode that confirms or replaces a grammar's reading (grammar-check.ts). It costs
// about eight times the grammar's decode, so it runs as its own 'listen.check' job on threads of
// its own: on the live listening threads it held every other session of the thread back (20
// sessions: answers 3.4 s after speech instead of 0.5 s).
import { releaseDecoder, tryAcquireDecoder } from './decoder.js';
import { agreedText } from './grammar-check.js';

export const LISTEN_CHECK_JOB_KIND = 'listen.check';

export interface CheckPayload {
  /** The grammar's reading of the utterance. */
  grammarText: string;
  /** The whole utterance, PCM16 mono 16 kHz. */
  audio: Int16Array;
}

/** What was heard: the grammar's reading when the open LM agrees with it, else the LM's own. */
export function checkedText({ grammarText, audio }: CheckPayload): string {
  // One check at a time per thread: a decoder is always free.
  const decoder = tryAcquireDecoder();
  if (decoder === undefined) throw new Error('no pocketsphinx decoder is free for the grammar check');
  try {
    return agreedText(grammarText, decoder.decodeWhole(undefined, audio));
  } finally {
    releaseDecoder(decoder);
  }
}
