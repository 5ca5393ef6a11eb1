/**
 * whisper.cpp behind the listen seam: Silero VAD decides the turns (same settings as the local
 * provider: endpointing, vad_threshold, min_speech_ms, max_speech_ms), and each finished turn is
 * transcribed at once with an encoder window sized to it. No interim transcripts.
 */
import { basename } from 'node:path';
import { ProviderError } from '../../core/errors.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ListenSettings } from '../../protocol/agent-config.js';
import type { PoolJob } from '../../engines/worker-pool.js';
import type { WhisperEngine } from '../../engines/neural/whisper-engine.js';
import type { WhisperListenEvent, WhisperListenInput } from '../../engines/neural/whisper-protocol.js';
import { resolveTurnSettings } from '../local/turn-settings.js';
import type { ListenEvents, ListenProvider, ListenStream } from '../types.js';

export interface WhisperListenOptions {
  /** Usually `sharedWhisperEngine({ modelPath })`. */
  engine: WhisperEngine;
}

export function createWhisperListen(settings: ListenSettings, context: ProviderContext, options: WhisperListenOptions): ListenProvider {
  const label = `whisper/${basename(options.engine.model.modelPath)}`;
  const turn = resolveTurnSettings(settings.provider, context.env);
  return {
    label,
    async open(events: ListenEvents): Promise<ListenStream> {
      let job: PoolJob<WhisperListenInput, WhisperListenEvent>;
      try {
        job = options.engine.listen(turn);
      } catch (err) {
        throw new ProviderError('listen', label, `cannot start listening: ${message(err)}`, { cause: err });
      }
      const stream = new WhisperListenStream(label, job, events, context);
      await stream.started;
      return stream;
    },
  };
}

class WhisperListenStream implements ListenStream {
  readonly started: Promise<void>;
  private closed = false;

  constructor(
    private readonly label: string,
    private readonly job: PoolJob<WhisperListenInput, WhisperListenEvent>,
    private readonly events: ListenEvents,
    private readonly context: ProviderContext,
  ) {
    this.started = new Promise((resolve, reject) => void this.pump(resolve, reject));
  }

  write(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    const copy = samples.slice();
    this.job.send(copy, [copy.buffer]);
  }

  forceEndTurn(): boolean {
    if (this.closed) return false;
    this.job.send({ t: 'forceEndTurn' });
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.job.cancel();
  }

  private async pump(resolve: () => void, reject: (err: unknown) => void): Promise<void> {
    let ready = false;
    try {
      for await (const event of this.job) {
        if (this.closed) return;
        if (event.t === 'ready') {
          ready = true;
          resolve();
        } else if (event.t === 'speechStarted') this.events.speechStarted();
        else {
          this.context.logger.debug({ provider: this.label, audioMs: event.audioMs, transcribeMs: event.transcribeMs }, 'turn transcribed');
          this.events.endOfTurn(event.text);
        }
      }
      if (!this.closed) throw new Error('the listen job ended unexpectedly');
    } catch (err) {
      if (this.closed) return;
      this.closed = true;
      const error = new ProviderError('listen', this.label, `whisper recognition failed: ${message(err)}`, { cause: err });
      if (ready) this.events.failed(error);
      else reject(error);
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
