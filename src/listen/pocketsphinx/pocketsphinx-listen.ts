/**
 * The local listen provider: Silero VAD → silence-based turn detector → pocketsphinx, all in a
 * worker of the classic listen pool. One 'listen.local' job per open stream carries its audio.
 *
 * Settings (extra fields of agent.listen.provider, each also a server env var):
 *   endpointing (ms, PARLEY_ENDPOINTING_MS, default 700): silence that ends the turn
 *   vad_threshold (0..1, PARLEY_VAD_THRESHOLD, default 0.5)
 *   min_speech_ms (PARLEY_MIN_SPEECH_MS, default 160): shorter sounds are ignored
 *   max_speech_ms (PARLEY_MAX_SPEECH_MS, default 25000): longer speech is cut into turns
 *   grammar (JSGF text): decode with this grammar instead of the open language model
 */
import { str } from '../../providers/settings.js';
import { ProtocolError } from '../../protocol/errors.js';
import { pocketsphinxCheckPool, pocketsphinxPool } from './pocketsphinx-pool.js';
import { LISTEN_CHECK_JOB_KIND } from './check-decode.js';
import { LISTEN_JOB_KIND } from './listen-job.js';
import type { GrammarCheck, ListenJobEvent, ListenJobInput, ListenJobPayload } from './listen-job.js';
import type { WorkerPool } from '../../workers/worker-pool.js';
import type { ListenSettings } from '../../protocol/agent-config.js';
import type { Logger } from '../../core/logger.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ListenEvents, ListenFactory, ListenProvider, ListenStream } from '../types.js';
import { openPoolListen } from '../pool-listen-stream.js';
import { resolveTurnSettings } from '../vad/turn-settings.js';

/** How often (in audio time) the live decoder reports a changed partial transcript. */
export const INTERIM_INTERVAL_MS = 500;

/** Longest JSGF grammar a session may bring (the default rules' is about 4,500 characters). */
export const MAX_GRAMMAR_CHARS = 65_536;

export interface LocalListenOptions {
  /**
   * JSGF grammar for the session (e.g. `compileRulesGrammar` of its rules think provider).
   * `agent.listen.provider.grammar` overrides it.
   */
  grammar?: string;
  /** Defaults to the process-wide classic listen pool. */
  pool?: WorkerPool;
  /** Where grammar readings are checked; defaults to the process-wide check pool. */
  checkPool?: WorkerPool;
}

export function createLocalListenFactory(options: LocalListenOptions = {}): ListenFactory {
  return (settings, context) => new LocalListenProvider(settings, context, options);
}

export const createLocalListen: ListenFactory = createLocalListenFactory();

/** Starts every thread of the check pool with its decoder loaded, so that no first check waits for a model. */
export async function warmGrammarChecks(): Promise<void> {
  const checks = pocketsphinxCheckPool.get();
  // A reading with no words: its grammar is never decoded, and the open LM hears the silence.
  const check = (): Promise<unknown> => checks.request<GrammarCheck, string>(LISTEN_CHECK_JOB_KIND, { text: '', grammar: '', audio: new Int16Array(1600) });
  await Promise.all(Array.from({ length: checks.threads }, check));
}

class LocalListenProvider implements ListenProvider {
  readonly label: string;
  private readonly payload: ListenJobPayload;
  private readonly logger: Logger;

  constructor(
    settings: ListenSettings,
    context: ProviderContext,
    private readonly options: LocalListenOptions,
  ) {
    this.logger = context.logger;
    const grammar = str(settings.provider, 'grammar') ?? options.grammar;
    if (grammar !== undefined && grammar.length > MAX_GRAMMAR_CHARS) {
      // Compiling a grammar blocks a listening thread; a huge one would hold every session on it.
      const from = str(settings.provider, 'grammar') === undefined ? 'the grammar compiled from agent.think.provider.rules' : 'agent.listen.provider.grammar';
      throw new ProtocolError('INVALID_SETTINGS', `${from} has ${grammar.length} characters; this server takes at most ${MAX_GRAMMAR_CHARS}`);
    }
    this.payload = {
      turn: resolveTurnSettings(settings.provider, context.env),
      interimIntervalMs: INTERIM_INTERVAL_MS,
      ...(grammar === undefined ? {} : { grammar }),
    };
    this.label = `local/pocketsphinx${grammar === undefined ? '' : '+grammar'}`;
  }

  open(events: ListenEvents): Promise<ListenStream> {
    const pool = this.options.pool ?? pocketsphinxPool.get();
    const settle = async (check: GrammarCheck): Promise<string> => {
      const checks = this.options.checkPool ?? pocketsphinxCheckPool.get();
      const text = await checks.request<GrammarCheck, string>(LISTEN_CHECK_JOB_KIND, check, { transfer: [check.audio.buffer] });
      if (text === undefined) throw new Error('the grammar check returned nothing');
      return text;
    };
    return openPoolListen(this.label, () => pool.run<ListenJobPayload, ListenJobInput, ListenJobEvent>(LISTEN_JOB_KIND, this.payload), events, this.logger, settle);
  }
}
