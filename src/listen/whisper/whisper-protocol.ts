import type { TurnSettings } from '../pocketsphinx/listen-job.js';

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

/** Whisper listening jobs speak the same messages as the classic ones (no interims). */
export type { ListenJobInput as WhisperListenInput, ListenJobEvent as WhisperListenEvent } from '../pocketsphinx/listen-job.js';

export interface WhisperTranscribePayload {
  model: WhisperModelSpec;
  pcm: Float32Array;
}
