import type { TurnSettings } from '../listen/listen-job.js';

export const WHISPER_JOBS = {
  /** One per listening session: audio in, speech events and final transcripts out. */
  listen: 'whisper.listen',
  /** One utterance in, its text out. */
  transcribe: 'whisper.transcribe',
  /** Frees the worker's models before the pool ends it. */
  unload: 'whisper.unload',
} as const;

export interface WhisperModelSpec {
  modelPath: string;
  threads: number;
  language: string;
}

export interface WhisperListenPayload {
  model: WhisperModelSpec;
  turn: TurnSettings;
}

export type WhisperListenInput = Int16Array | { t: 'forceEndTurn' };

export type WhisperListenEvent =
  | { t: 'ready' }
  | { t: 'speechStarted' }
  /** `audioMs` of speech transcribed in `transcribeMs` (finalization delay). */
  | { t: 'endOfTurn'; text: string; audioMs: number; transcribeMs: number };

export interface WhisperTranscribePayload {
  model: WhisperModelSpec;
  pcm: Float32Array;
}
