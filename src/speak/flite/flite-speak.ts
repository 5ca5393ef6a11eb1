/**
 * The flite speak provider: flite compiled to WASI, in the classic speak pool's workers.
 * Voice: `agent.speak.provider.voice`, else a model named `flite-<voice>` or `<voice>`, else env
 * PARLEY_FLITE_VOICE, else `rms`. Voices: rms, slt, awb, kal16 (fastest, robotic), kal (8 kHz).
 */
import { ProviderError } from '../../core/errors.js';
import { ProtocolError } from '../../protocol/errors.js';
import { str } from '../../providers/settings.js';
import { flitePool } from './flite-pool.js';
import { FLITE_JOB_KIND, FLITE_VOICES } from './flite-job.js';
import type { FliteChunk, FliteJobPayload, FliteVoice } from './flite-job.js';
import type { WorkerPool } from '../../workers/worker-pool.js';
import type { SpeakSettings } from '../../protocol/agent-config.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { PcmChunk, SpeakFactory, SpeakProvider } from '../types.js';

const PROVIDER = 'flite';
export const DEFAULT_FLITE_VOICE: FliteVoice = 'rms';

export interface FliteSpeakOptions {
  /** Defaults to the process-wide classic speak pool. */
  pool?: WorkerPool;
}

export function createFliteSpeakFactory(options: FliteSpeakOptions = {}): SpeakFactory {
  return (settings, context) => new FliteSpeakProvider(resolveFliteVoice(settings, context), options.pool);
}

export const createFliteSpeak: SpeakFactory = createFliteSpeakFactory();

function isVoice(name: string | undefined): name is FliteVoice {
  return (FLITE_VOICES as readonly string[]).includes(name ?? '');
}

/** Throws INVALID_SETTINGS for an unknown explicit voice; a foreign model name falls back. */
export function resolveFliteVoice(settings: SpeakSettings, context: ProviderContext): FliteVoice {
  const voice = str(settings.provider, 'voice');
  if (voice !== undefined) {
    if (isVoice(voice)) return voice;
    throw new ProtocolError('INVALID_SETTINGS', `agent.speak.provider.voice "${voice}" is not a flite voice (${FLITE_VOICES.join(', ')})`);
  }
  const model = settings.provider.model?.replace(/^flite[-_/]/, '');
  if (isVoice(model)) return model;
  const fromEnv = context.env['PARLEY_FLITE_VOICE'];
  return isVoice(fromEnv) ? fromEnv : DEFAULT_FLITE_VOICE;
}

class FliteSpeakProvider implements SpeakProvider {
  readonly label: string;

  constructor(
    private readonly voice: FliteVoice,
    private readonly pool: WorkerPool | undefined,
  ) {
    this.label = `flite/${voice}`;
  }

  async *synthesize(text: string, signal: AbortSignal): AsyncIterable<PcmChunk> {
    if (signal.aborted || text.trim() === '') return;
    const pool = this.pool ?? flitePool.get();
    try {
      const job = pool.run<FliteJobPayload, never, FliteChunk>(FLITE_JOB_KIND, { text, voice: this.voice }, { signal });
      for await (const chunk of job) {
        if (signal.aborted) return;
        yield { samples: chunk.samples, sampleRate: chunk.sampleRate };
      }
    } catch (err) {
      if (signal.aborted) return;
      throw new ProviderError('speak', PROVIDER, `flite failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  }
}
