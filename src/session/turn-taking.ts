// Turn-taking rules of the session (docs/turn-taking.md): which user sounds interrupt the agent,
// which are backchannels, when a turn is plainly unfinished, and the filler for slow tools.
import { ProtocolError } from '../protocol/errors.js';
import type { ProviderSettings } from '../protocol/agent-config.js';
import { num } from '../providers/settings.js';
import { LISTEN_SAMPLE_RATE } from '../listen/types.js';

export interface TurnTaking {
  /** Voiced audio the user's sound must go on for after its reported start before it can interrupt; 0: any sound with words. */
  minInterruptionMs: number;
  /**
   * Words, other than backchannels, a sound must have before it interrupts on words: an open
   * language model hears a hum or a cough as one short word ("mm-hmm" as "you", a cough as "the").
   */
  minInterruptionWords: number;
  /** How long a paused agent waits for the words of a possible interruption before it resumes. */
  falseInterruptionMs: number;
  /**
   * Voiced audio that interrupts without words: listeners without interim transcripts (whisper,
   * an uploading transcriber) report words only at the end of the turn, and the agent must not
   * resume over a user who goes on talking. Backchannels and coughs are shorter. 0: never.
   */
  sustainedInterruptionMs: number;
  /** A turn said during agent speech made only of these words neither interrupts nor gets a reply. */
  backchannels: string[];
  /** Said once per reply when a function call round has run this long; 0: never. */
  fillerAfterMs: number;
  /** The filler; '' turns it off. */
  filler: string;
  /** Extra silence waited after a turn that plainly goes on ("and", "my number is", digits); 0: none. */
  unfinishedHoldMs: number;
  /**
   * Silence after the user's words at which an eager reply starts thinking on the latest interim
   * transcript, its output held until the turn ends with the same words; 0: off.
   */
  eagerReplyMs: number;
}

export const DEFAULT_TURN_TAKING: TurnTaking = {
  minInterruptionMs: 250,
  minInterruptionWords: 2,
  falseInterruptionMs: 1500,
  sustainedInterruptionMs: 700,
  backchannels: ['mm-hmm', 'mhm', 'uh-huh', 'yeah', 'okay', 'ok', 'right'],
  fillerAfterMs: 1500,
  filler: 'One moment.',
  unfinishedHoldMs: 1000,
  // Off: each pause inside a turn would cost an LLM request, and the local recognizer's final
  // transcript seldom equals its interim (docs/turn-taking.md#eager-replies).
  eagerReplyMs: 0,
};

const MS_FIELDS: readonly { key: 'minInterruptionMs' | 'falseInterruptionMs' | 'sustainedInterruptionMs' | 'fillerAfterMs' | 'unfinishedHoldMs' | 'eagerReplyMs'; setting: string; max: number }[] = [
  { key: 'minInterruptionMs', setting: 'min_interruption_ms', max: 5000 },
  { key: 'falseInterruptionMs', setting: 'false_interruption_ms', max: 10000 },
  { key: 'sustainedInterruptionMs', setting: 'sustained_interruption_ms', max: 10000 },
  { key: 'fillerAfterMs', setting: 'filler_after_ms', max: 60000 },
  { key: 'unfinishedHoldMs', setting: 'unfinished_hold_ms', max: 10000 },
  { key: 'eagerReplyMs', setting: 'eager_reply_ms', max: 5000 },
];

/**
 * The session's rules: extra fields of `agent.listen.provider` over the server's defaults.
 * A session value out of range is INVALID_SETTINGS.
 */
export function resolveTurnTaking(provider: ProviderSettings, defaults: TurnTaking): TurnTaking {
  const rules: TurnTaking = { ...defaults, backchannels: [...defaults.backchannels] };
  for (const field of MS_FIELDS) {
    const value = num(provider, field.setting);
    if (value === undefined) continue;
    if (!(value >= 0 && value <= field.max)) {
      throw new ProtocolError('INVALID_SETTINGS', `agent.listen.provider.${field.setting} must be between 0 and ${field.max}`);
    }
    rules[field.key] = value;
  }
  const minWords = num(provider, 'min_interruption_words');
  if (minWords !== undefined) {
    if (!(Number.isInteger(minWords) && minWords >= 1 && minWords <= 10)) {
      throw new ProtocolError('INVALID_SETTINGS', 'agent.listen.provider.min_interruption_words must be a whole number between 1 and 10');
    }
    rules.minInterruptionWords = minWords;
  }
  const backchannels = provider['backchannels'];
  if (backchannels !== undefined) {
    if (!Array.isArray(backchannels) || !backchannels.every((b): b is string => typeof b === 'string')) {
      throw new ProtocolError('INVALID_SETTINGS', 'agent.listen.provider.backchannels must be a list of strings');
    }
    rules.backchannels = backchannels;
  }
  const filler = provider['filler'];
  if (filler !== undefined) {
    if (typeof filler !== 'string') throw new ProtocolError('INVALID_SETTINGS', 'agent.listen.provider.filler must be a string');
    rules.filler = filler.trim();
  }
  return rules;
}

/** Lower case words, with hyphens and punctuation as word breaks ("Mm-hmm." → ["mm", "hmm"]). */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}']+/u)
    .filter((w) => w !== '');
}

/** Whether `text` has words and every one of them belongs to a backchannel of the list. */
export function isBackchannel(text: string, backchannels: readonly string[]): boolean {
  return words(text).length > 0 && interruptingWords(text, backchannels) === 0;
}

/** How many words of `text` belong to no backchannel of the list ("Yeah, but wait": 2). */
export function interruptingWords(text: string, backchannels: readonly string[]): number {
  const allowed = new Set(backchannels.flatMap(words));
  return words(text).filter((w) => !allowed.has(w)).length;
}

/** Words a sentence does not end on: conjunctions, prepositions, articles, fillers, a copula. */
const GOES_ON = new Set([
  'and', 'or', 'but', 'so', 'because', 'if', 'then', 'that', 'the', 'a', 'an', 'to', 'of', 'for', 'with', 'from',
  'at', 'in', 'on', 'my', 'your', 'is', 'are', 'was', 'um', 'uh', 'er',
]);
const DIGITS = new Set(['zero', 'oh', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']);

/** A transcript that plainly goes on: it ends on a word no sentence ends on, or on digits being dictated. */
export function looksUnfinished(text: string): boolean {
  const last = words(text).at(-1);
  if (last === undefined) return false;
  return GOES_ON.has(last) || DIGITS.has(last) || /^\d+$/.test(last);
}

/** RMS of a 20 ms frame above which it counts as voiced (about -40 dBFS): well over line noise. */
const VOICED_RMS = 330;
const FRAME_SAMPLES = LISTEN_SAMPLE_RATE / 50;

/** Milliseconds of voiced audio in mono PCM16 at LISTEN_SAMPLE_RATE, judged frame by frame. */
export function voicedMs(samples: Int16Array): number {
  let voiced = 0;
  for (let start = 0; start < samples.length; start += FRAME_SAMPLES) {
    const end = Math.min(samples.length, start + FRAME_SAMPLES);
    let energy = 0;
    for (let i = start; i < end; i++) energy += (samples[i] ?? 0) ** 2;
    if (Math.sqrt(energy / (end - start)) > VOICED_RMS) voiced += ((end - start) * 1000) / LISTEN_SAMPLE_RATE;
  }
  return voiced;
}
