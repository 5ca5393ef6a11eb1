import { LISTEN_SAMPLE_RATE } from '../types.js';
import type { TurnDetector, TurnDetectorEvents } from './turn-detector.js';

export interface EnergyTurnOptions {
  /** Loudness (dBFS of a 20 ms frame) above which a frame counts as voiced. */
  thresholdDb?: number;
  /** Voiced time needed to call the start of speech. */
  startMs?: number;
  /** Silence that ends the turn. */
  endSilenceMs?: number;
}

const FRAME = (LISTEN_SAMPLE_RATE * 20) / 1000;
const FRAME_MS = 20;

/**
 * A simple energy VAD with hysteresis: speech starts after `startMs` of voiced frames and the turn
 * ends after `endSilenceMs` below the threshold. The threshold rises with the noise floor, which
 * it learns from quiet frames, so steady background hum does not count as speech.
 */
export class EnergyTurnDetector implements TurnDetector {
  private readonly thresholdDb: number;
  private readonly startFrames: number;
  private readonly endFrames: number;
  private readonly pending = new Int16Array(FRAME);
  private filled = 0;
  /** Samples written after the frame being judged: they too came after the speech. */
  private unjudged = 0;
  private voicedRun = 0;
  private silentRun = 0;
  private speaking = false;
  private noiseDb = -70;

  constructor(
    private readonly events: TurnDetectorEvents,
    options: EnergyTurnOptions = {},
  ) {
    this.thresholdDb = options.thresholdDb ?? -45;
    this.startFrames = Math.max(1, Math.round((options.startMs ?? 100) / FRAME_MS));
    this.endFrames = Math.max(1, Math.round((options.endSilenceMs ?? 700) / FRAME_MS));
  }

  write(samples: Int16Array): void {
    let offset = 0;
    while (offset < samples.length) {
      // A whole frame in place (the usual 20 ms client frame): judged without copying it.
      if (this.filled === 0 && samples.length - offset >= FRAME) {
        offset += FRAME;
        this.unjudged = samples.length - offset;
        this.frame(levelDb(samples, offset - FRAME, offset));
        continue;
      }
      const take = Math.min(FRAME - this.filled, samples.length - offset);
      this.pending.set(samples.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === FRAME) {
        this.filled = 0;
        this.unjudged = samples.length - offset;
        this.frame(levelDb(this.pending, 0, FRAME));
      }
    }
  }

  forceEnd(): boolean {
    if (!this.speaking) return false;
    this.unjudged = this.filled;
    this.endTurn();
    return true;
  }

  close(): void {
    this.speaking = false;
  }

  private frame(db: number): void {
    const voiced = db > Math.max(this.thresholdDb, this.noiseDb + 12);
    if (!this.speaking) {
      this.voicedRun = voiced ? this.voicedRun + 1 : 0;
      if (!voiced) this.noiseDb = this.noiseDb * 0.95 + db * 0.05;
      if (this.voicedRun >= this.startFrames) {
        this.speaking = true;
        this.silentRun = 0;
        this.events.speechStart();
      }
      return;
    }
    this.silentRun = voiced ? 0 : this.silentRun + 1;
    if (this.silentRun >= this.endFrames) this.endTurn();
  }

  private endTurn(): void {
    const after = this.silentRun * FRAME + this.unjudged;
    this.speaking = false;
    this.voicedRun = 0;
    this.silentRun = 0;
    this.events.speechEnd(after);
  }
}

function levelDb(samples: Int16Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) {
    const s = samples[i] as number;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / (end - start)) / 32768;
  return rms > 0 ? 20 * Math.log10(rms) : -100;
}
