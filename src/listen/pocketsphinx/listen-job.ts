/** The 'listen.local' job: one per listening session, fed the session's audio for its lifetime. */
export const LISTEN_JOB_KIND = 'listen.local';

/** A grammar's reading of an utterance, for the check (check-decode.ts) to confirm or replace. */
export interface GrammarCheck {
  /** The words the grammar heard live (check-decode.ts scores them again: live scores are not comparable). */
  text: string;
  /** The JSGF grammar it was heard with. */
  grammar: string;
  /** The whole utterance, PCM16 mono 16 kHz. */
  audio: Int16Array<ArrayBuffer>;
  /** The cepstral mean the utterance was decoded from, live; absent: its own (batch CMN). */
  mean?: Float32Array;
  /** With `mean`: the lengths of the pieces it was decoded in (live CMN moves after each). */
  pieces?: number[];
}

export interface TurnSettings {
  /** Silence after speech that ends the user's turn. */
  endpointingMs: number;
  /** Silero speech probability threshold (0..1). */
  vadThreshold: number;
  /** Speech shorter than this is ignored (coughs, clicks); also the onset delay. */
  minSpeechMs: number;
  /** Longest single turn; longer speech is cut into several turns. */
  maxSpeechMs: number;
}

export interface ListenJobPayload {
  turn: TurnSettings;
  /** JSGF grammar to decode with instead of the open language model. */
  grammar?: string;
  /** How often (in audio time) a changed partial transcript is reported. */
  interimIntervalMs: number;
}

/** PCM16 mono 16 kHz of any length, or a request to finalize the current utterance now. */
export type ListenJobInput = Int16Array | { t: 'forceEndTurn' };

/** What every listening job (pocketsphinx, whisper) reports back, in order. */
export type ListenJobEvent =
  | { t: 'ready' }
  | { t: 'speechStarted' }
  | { t: 'interim'; text: string }
  /** `audioMs` of speech finalized in `finalizeMs`, where the engine measures it. */
  | {
      t: 'endOfTurn';
      text: string;
      /** Where the speech of the turn ended, in samples of the stream (0: the first written), before the endpointing silence. */
      speechEndSample: number;
      audioMs?: number;
      finalizeMs?: number;
      /** Present when `text` is a grammar's reading, to be checked before it is reported (check-decode.ts). */
      check?: GrammarCheck;
    };
