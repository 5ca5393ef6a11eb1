/**
 * Sentences for the default rules (config/rules/default.json), in domain with the intent each
 * should fire and out of domain, spoken by espeak-ng at 16 kHz or as 8 kHz mu-law telephone audio
 * (made by sox, from espeak-ng's own output), or by one of flite's voices (the project's own
 * synthesizer, a different technique from espeak-ng's).
 */
import { execFileSync } from 'node:child_process';
import { synthesizeWithFlite } from '../../src/speak/flite/flite-synth.js';
import type { FliteVoice } from '../../src/speak/flite/flite-job.js';

export const IN_DOMAIN: ReadonlyArray<{ text: string; intent: string }> = [
  { text: 'hello', intent: 'greeting' },
  { text: 'good morning', intent: 'greeting' },
  { text: 'how are you doing', intent: 'how_are_you' },
  { text: 'what is your name', intent: 'name' },
  { text: 'what can you do', intent: 'capabilities' },
  { text: 'what time is it', intent: 'time' },
  { text: 'tell me the time', intent: 'time' },
  { text: 'what day is it', intent: 'date' },
  { text: 'what is the date today', intent: 'date' },
  { text: 'what is the weather in paris', intent: 'weather' },
  { text: 'is it raining in london', intent: 'weather' },
  { text: 'how is the weather in tokyo', intent: 'weather' },
  { text: 'is it cold in chicago', intent: 'weather' },
  { text: 'thank you', intent: 'thanks' },
  { text: 'goodbye', intent: 'goodbye' },
  { text: 'see you later', intent: 'goodbye' },
  { text: 'hi there', intent: 'greeting' },
  { text: 'good evening', intent: 'greeting' },
  { text: 'how is it going', intent: 'how_are_you' },
  { text: 'who are you', intent: 'name' },
  { text: 'help me', intent: 'capabilities' },
  { text: 'what is the time', intent: 'time' },
  { text: 'what is today', intent: 'date' },
  { text: 'what is the weather like in berlin', intent: 'weather' },
  { text: 'is it hot in madrid', intent: 'weather' },
  { text: 'what is two plus two', intent: 'arithmetic' },
  { text: 'how much is ten times five', intent: 'arithmetic' },
  { text: 'calculate twenty minus seven', intent: 'arithmetic' },
  { text: 'tell me a joke', intent: 'joke' },
  { text: 'make me laugh', intent: 'joke' },
  { text: 'can you repeat that', intent: 'repeat' },
  { text: 'say that again', intent: 'repeat' },
  { text: 'thanks a lot', intent: 'thanks' },
  { text: 'good night', intent: 'goodbye' },
];

export const OUT_OF_DOMAIN: readonly string[] = [
  'you have been removed from the conference',
  'can you book me a table for two tonight',
  'please transfer me to the billing department',
  'my package never arrived and i want a refund',
  'the quick brown fox jumps over the lazy dog',
  'i would like to change my flight to friday',
  'remind me to call my mother after lunch',
  'turn off the lights in the kitchen',
  'how much does a large pizza cost',
  'my password does not work any more',
  'i need to speak to a real person',
  'what are your opening hours on sunday',
  'can i make an appointment for next week',
  'please cancel my subscription',
  'where is the nearest train station',
  'play some music by the beatles',
  'set an alarm for seven in the morning',
  'what is the capital of france',
  'send a message to my brother',
  'order a taxi to the airport',
];

export type Line = 'wideband' | 'phone';

/** A flite voice, at its own 16 kHz. */
export function fliteSpoken(text: string, voice: FliteVoice): Int16Array {
  const { samples, sampleRate } = synthesizeWithFlite(text, voice);
  if (sampleRate !== 16000) throw new Error(`flite voice ${voice} speaks at ${sampleRate} Hz, not 16000`);
  return samples;
}

/**
 * `text` spoken by espeak-ng, as PCM16 mono 16 kHz: the same samples in every process, since sox
 * dithers its conversions with a new random seed each run unless told -R (a phrase in about 30
 * was heard differently from one run of the classic benchmark to the next).
 */
export function spoken(text: string, line: Line = 'wideband', voice = 'en-us'): Int16Array {
  const wav = execFileSync('espeak-ng', ['-v', voice, '-s', '160', '--stdout', text], { maxBuffer: 1 << 26 });
  const toPcm16k = ['-V1', '-R', '-t', 'wav', '-', '-t', 'raw', '-r', '16000', '-e', 'signed', '-b', '16', '-c', '1', '-'];
  const input = line === 'phone' ? execFileSync('sox', ['-V1', '-R', '-t', 'wav', '-', '-t', 'wav', '-r', '8000', '-e', 'mu-law', '-c', '1', '-'], { input: wav }) : wav;
  const raw = execFileSync('sox', toPcm16k, { input, maxBuffer: 1 << 26 });
  return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length - (raw.length % 2)));
}
