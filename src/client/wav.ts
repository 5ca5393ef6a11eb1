/**
 * Turns received agent speech into WAV bytes. Browser-safe (Uint8Array only), which is why the
 * client has this small writer instead of importing src/audio.
 */
import type { AgentClient } from './agent-client.js';

export interface PcmFormat {
  /** Samples per second of the linear16 stream. */
  sampleRate: number;
  channels?: number;
}

/** A canonical 44-byte header followed by the little-endian 16-bit PCM given. */
export function encodeWav(pcm: Uint8Array, format: PcmFormat): Uint8Array {
  const channels = format.channels ?? 1;
  const out = new Uint8Array(44 + pcm.byteLength);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string): void => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + pcm.byteLength, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, format.sampleRate, true);
  view.setUint32(28, format.sampleRate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, pcm.byteLength, true);
  out.set(pcm, 44);
  return out;
}

export interface Utterance {
  /** 1-based count of utterances finished on this recorder. */
  index: number;
  pcm: Uint8Array;
  wav: Uint8Array;
  durationMs: number;
  /** True when barge-in (UserStartedSpeaking) cut it short before AgentAudioDone. */
  interrupted: boolean;
}

/**
 * Collects the Audio frames of each agent utterance and hands it over as WAV on AgentAudioDone
 * (or, marked interrupted, on barge-in). Expects linear16 output with `container: "none"`.
 */
export class UtteranceRecorder {
  readonly #format: PcmFormat;
  readonly #onUtterance: (utterance: Utterance) => void;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #count = 0;
  readonly #detach: () => void;

  constructor(client: AgentClient, format: PcmFormat, onUtterance: (utterance: Utterance) => void) {
    this.#format = format;
    this.#onUtterance = onUtterance;
    const onAudio = (data: Uint8Array): void => this.add(data);
    const onDone = (): void => this.finish(false);
    const onBargeIn = (): void => {
      if (this.#bytes > 0) this.finish(true);
    };
    client.on('Audio', onAudio).on('AgentAudioDone', onDone).on('UserStartedSpeaking', onBargeIn);
    this.#detach = () => {
      client.off('Audio', onAudio).off('AgentAudioDone', onDone).off('UserStartedSpeaking', onBargeIn);
    };
  }

  add(data: Uint8Array): void {
    // A copy: frames from some transports share a pooled buffer.
    this.#chunks.push(data.slice());
    this.#bytes += data.byteLength;
  }

  /** Ends the current utterance (an empty one is still reported, e.g. a text-only turn). */
  finish(interrupted: boolean): void {
    const pcm = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const chunk of this.#chunks) {
      pcm.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.#chunks = [];
    this.#bytes = 0;
    this.#count += 1;
    const bytesPerSecond = this.#format.sampleRate * (this.#format.channels ?? 1) * 2;
    this.#onUtterance({
      index: this.#count,
      pcm,
      wav: encodeWav(pcm, this.#format),
      durationMs: (pcm.byteLength / bytesPerSecond) * 1000,
      interrupted,
    });
  }

  detach(): void {
    this.#detach();
  }
}
