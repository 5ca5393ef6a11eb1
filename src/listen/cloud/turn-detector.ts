/** What a turn detector reports about the PCM it is fed. */
export interface TurnDetectorEvents {
  speechStart(): void;
  /** The turn ended; `afterSamples` of the audio written so far came after the speech (the endpointing silence). */
  speechEnd(afterSamples: number): void;
}

/**
 * Speech start/end from PCM16 mono 16 kHz frames. The energy detector below implements it; the
 * local Silero VAD (listen/vad/) can be adapted to it for better accuracy.
 */
export interface TurnDetector {
  write(samples: Int16Array): void;
  /** Ends the current utterance now (ForceEndTurn); false when none is in progress. */
  forceEnd(): boolean;
  close(): void;
}

export type TurnDetectorFactory = (events: TurnDetectorEvents) => TurnDetector | Promise<TurnDetector>;
