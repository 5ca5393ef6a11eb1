/** The 'flite.synthesize' job: one sentence in, PCM chunks out. */
export const FLITE_JOB_KIND = 'flite.synthesize';

/** Voices built into flite: cmu_us_rms, cmu_us_slt, cmu_us_awb (16 kHz), kal16 (16 kHz diphone). */
export const FLITE_VOICES = ['rms', 'slt', 'awb', 'kal16', 'kal'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

export interface FliteJobPayload {
  text: string;
  voice: FliteVoice;
}

export interface FliteChunk {
  samples: Int16Array;
  sampleRate: number;
}
