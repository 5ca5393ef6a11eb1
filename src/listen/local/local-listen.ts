/**
 * The local listen provider: Silero VAD → silence-based turn detector → pocketsphinx, all in a
 * worker of the classic listen pool. One 'listen.local' job per open stream carries its audio.
 *
 * Settings (extra fields of agent.listen.provider, each also a server env var):
 *   endpointing (ms, PARLEY_ENDPOINTING_MS, default 700): silence that ends the turn
 *   vad_threshold (0..1, PARLEY_VAD_THRESHOLD, default 0.5)
 *   min_speech_ms (PARLEY_MIN_SPEECH_MS, default 200): shorter sounds are ignored
 *   max_speech_ms (PARLEY_MAX_SPEECH_MS, default 25000): longer speech is cut into turns
 *   grammar (JSGF text): decode with this grammar instead of the open language model
 */
import { ProviderError } from '../../core/errors.js';
import { str } from '../../providers/settings.js';
import { classicListenPool } from '../../engines/classic-pools.js';
import { LISTEN_JOB_KIND } from '../../engines/listen/listen-job.js';
import type { ListenJobEvent, ListenJobInput, ListenJobPayload } from '../../engines/listen/listen-job.js';
import type { PoolJob, WorkerPool } from '../../engines/worker-pool.js';
import type { ListenSettings } from '../../protocol/agent-config.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ListenEvents, ListenFactory, ListenProvider, ListenStream } from '../types.js';
import { resolveTurnSettings } from './turn-settings.js';

const PROVIDER = 'local';
const INTERIM_INTERVAL_MS = 500;

export interface LocalListenOptions {
  /**
   * JSGF grammar for the session (e.g. `compileRulesGrammar` of its rules think provider).
   * `agent.listen.provider.grammar` overrides it.
   */
  grammar?: string;
  /** Defaults to the process-wide classic listen pool. */
  pool?: WorkerPool;
}

export function createLocalListenFactory(options: LocalListenOptions = {}): ListenFactory {
  return (settings, context) => new LocalListenProvider(settings, context, options);
}

export const createLocalListen: ListenFactory = createLocalListenFactory();

class LocalListenProvider implements ListenProvider {
  readonly label: string;
  private readonly payload: ListenJobPayload;

  constructor(
    settings: ListenSettings,
    context: ProviderContext,
    private readonly options: LocalListenOptions,
  ) {
    const grammar = str(settings.provider, 'grammar') ?? options.grammar;
    this.payload = {
      turn: resolveTurnSettings(settings.provider, context.env),
      interimIntervalMs: INTERIM_INTERVAL_MS,
      ...(grammar === undefined ? {} : { grammar }),
    };
    this.label = `local/pocketsphinx${grammar === undefined ? '' : '+grammar'}`;
  }

  async open(events: ListenEvents): Promise<ListenStream> {
    const pool = this.options.pool ?? classicListenPool();
    let job: PoolJob<ListenJobInput, ListenJobEvent>;
    try {
      job = pool.run<ListenJobPayload, ListenJobInput, ListenJobEvent>(LISTEN_JOB_KIND, this.payload);
    } catch (err) {
      throw new ProviderError('listen', PROVIDER, `cannot start listening: ${message(err)}`, { cause: err });
    }
    const stream = new LocalListenStream(job, events);
    await stream.started;
    return stream;
  }
}

class LocalListenStream implements ListenStream {
  readonly started: Promise<void>;
  private closed = false;

  constructor(
    private readonly job: PoolJob<ListenJobInput, ListenJobEvent>,
    private readonly events: ListenEvents,
  ) {
    this.started = new Promise((resolve, reject) => {
      void this.pump(resolve, reject);
    });
  }

  write(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    // A copy is moved to the worker: the caller may reuse its buffer.
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
        switch (event.t) {
          case 'ready':
            ready = true;
            resolve();
            break;
          case 'speechStarted':
            this.events.speechStarted();
            break;
          case 'interim':
            this.events.interim(event.text);
            break;
          case 'endOfTurn':
            this.events.endOfTurn(event.text);
            break;
        }
      }
      if (!this.closed) throw new Error('the listen job ended unexpectedly');
    } catch (err) {
      if (this.closed) return;
      this.closed = true;
      const error = new ProviderError('listen', PROVIDER, `local speech recognition failed: ${message(err)}`, { cause: err });
      if (ready) this.events.failed(error);
      else reject(error);
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
