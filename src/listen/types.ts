import type { ListenSettings } from '../protocol/agent-config.js';
import type { ProviderContext } from '../core/provider-context.js';
import type { ProviderError } from '../core/errors.js';

/** Every listen provider receives mono PCM16 at this rate (audio/ converts the client's format). */
export const LISTEN_SAMPLE_RATE = 16000;

/** What a listen stream reports to its session. */
export interface ListenEvents {
  /** The user began an utterance (also while the agent speaks: barge-in). */
  speechStarted(): void;
  /** A partial transcript of the current utterance. */
  interim(text: string): void;
  /**
   * The user's turn ended; `text` is the final transcript ('' when nothing was recognized).
   * `speechEndedAt` (performance.now() ms) is when the user's speech ended, before endpointing
   * and transcription: where latency is counted from (docs/protocol-decisions.md#latency-events-on-every-turn).
   */
  endOfTurn(text: string, speechEndedAt: number): void;
  /** The stream failed and will report nothing more. */
  failed(error: ProviderError): void;
}

export interface ListenStream {
  /** One frame of PCM16 at LISTEN_SAMPLE_RATE; any length. Never blocks. */
  write(samples: Int16Array): void;
  /** ForceEndTurn: finalize the current utterance now. Returns false if unsupported. */
  forceEndTurn(): boolean;
  /** Frees everything the stream holds; no events follow. */
  close(): void;
}

/** VAD + turn detection + STT behind one seam (docs/architecture.md#the-seams). */
export interface ListenProvider {
  readonly label: string;
  open(events: ListenEvents): Promise<ListenStream>;
  close?(): void;
}

export type ListenFactory = (settings: ListenSettings, context: ProviderContext) => ListenProvider;
