// One pocketsphinx decoder (open-vocabulary LM, or JSGF grammars only) and the bounded set of them
// each thread reuses, since loading one costs ~0.2 s and 92 MB with the LM (27 MB without).
import { createHash } from 'node:crypto';
import { pocketsphinxLibrary } from './binding.js';

export const DEBIAN_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface PocketsphinxModel {
  /** Acoustic model folder. */
  hmm: string;
  /** Trigram language model. */
  lm: string;
  dict: string;
}

export const DEFAULT_MODEL: PocketsphinxModel = {
  hmm: `${DEBIAN_MODEL_DIR}/en-us`,
  lm: `${DEBIAN_MODEL_DIR}/en-us.lm.bin`,
  dict: `${DEBIAN_MODEL_DIR}/cmudict-en-us.dict`,
};

export class PocketsphinxDecoder {
  private readonly grammars = new Set<string>();
  private readonly lmSearch: string | undefined;
  private inUtterance = false;

  private constructor(
    private readonly config: unknown,
    private readonly handle: unknown,
    withLanguageModel: boolean,
  ) {
    this.lmSearch = withLanguageModel ? (pocketsphinxLibrary().getSearch(handle) ?? '_default') : undefined;
  }

  /** `withLanguageModel: false` loads a decoder for grammars only, without the open LM. */
  static load(model: PocketsphinxModel = DEFAULT_MODEL, withLanguageModel = true): PocketsphinxDecoder {
    const ps = pocketsphinxLibrary();
    // -fwdflat/-bestpath off: final text 10-175 ms after speech instead of up to 875 ms, same WER.
    const config = ps.cmdLnInit([
      '-hmm', model.hmm,
      ...(withLanguageModel ? ['-lm', model.lm] : []),
      '-dict', model.dict,
      '-fwdflat', 'no',
      '-bestpath', 'no',
      '-logfn', '/dev/null',
    ]);
    if (config === null) throw new Error(`pocketsphinx rejected its configuration (model files under ${model.hmm}?)`);
    const handle = ps.init(config);
    if (handle === null) {
      ps.cmdLnFree(config);
      throw new Error(`pocketsphinx could not load its model from ${model.hmm}`);
    }
    return new PocketsphinxDecoder(config, handle, withLanguageModel);
  }

  /** Decode the next utterances with this JSGF grammar, or with the open LM when undefined. */
  useGrammar(jsgf: string | undefined): void {
    const ps = pocketsphinxLibrary();
    if (jsgf === undefined) {
      if (this.lmSearch === undefined) throw new Error('this pocketsphinx decoder was loaded for grammars only');
      ps.setSearch(this.handle, this.lmSearch);
      return;
    }
    const name = 'g' + createHash('sha1').update(jsgf).digest('hex').slice(0, 16);
    if (!this.grammars.has(name)) {
      if (ps.setJsgfString(this.handle, name, jsgf) < 0) throw new Error('pocketsphinx rejected the JSGF grammar');
      this.grammars.add(name);
    }
    if (ps.setSearch(this.handle, name) < 0) throw new Error('pocketsphinx could not switch to the grammar');
  }

  start(): void {
    if (pocketsphinxLibrary().startUtt(this.handle) < 0) throw new Error('pocketsphinx could not start an utterance');
    this.inUtterance = true;
  }

  process(samples: Int16Array): void {
    if (pocketsphinxLibrary().processRaw(this.handle, samples, samples.length, 0, 0) < 0) {
      throw new Error('pocketsphinx failed to process audio');
    }
  }

  /** The best hypothesis so far ('' when none). */
  partial(): string {
    return pocketsphinxLibrary().getHyp(this.handle) ?? '';
  }

  /** Ends the utterance and returns its final text ('' when nothing was recognized). */
  finish(): string {
    if (!this.inUtterance) return '';
    this.inUtterance = false;
    pocketsphinxLibrary().endUtt(this.handle);
    return this.partial();
  }

  free(): void {
    const ps = pocketsphinxLibrary();
    if (this.inUtterance) ps.endUtt(this.handle);
    ps.free(this.handle);
    ps.cmdLnFree(this.config);
  }
}

/**
 * Decoders each thread may hold, by kind. They are loaded on demand up to this bound and never
 * freed: a freed pocketsphinx decoder does not give its memory back to the OS (glibc keeps it), so
 * load/free churn made RSS grow round after round of sessions, while a fixed set is reused.
 * A thread decodes one utterance at a time anyway; more decoders only let more utterances be
 * decoded live, and the others catch up from their buffered audio (far faster than real time)
 * when one frees. The LM kind stays available to every thread, grammar sessions included.
 */
export const MAX_DECODERS = { lm: 2, grammar: 6 };

type DecoderKind = keyof typeof MAX_DECODERS;
type Waiter = (decoder: PocketsphinxDecoder) => void;

interface KindPool {
  idle: PocketsphinxDecoder[];
  loaded: number;
  waiters: Waiter[];
}

const pools: Record<DecoderKind, KindPool> = {
  lm: { idle: [], loaded: 0, waiters: [] },
  grammar: { idle: [], loaded: 0, waiters: [] },
};

const kindOf = (grammar: string | undefined): DecoderKind => (grammar === undefined ? 'lm' : 'grammar');

/** An idle decoder for the open LM (`grammar` undefined) or for JSGF grammars, loading one while under the bound; undefined when all are busy. */
export function tryAcquireDecoder(grammar: string | undefined): PocketsphinxDecoder | undefined {
  const kind = kindOf(grammar);
  const pool = pools[kind];
  const idle = pool.idle.pop();
  if (idle !== undefined || pool.loaded >= MAX_DECODERS[kind]) return idle;
  const decoder = PocketsphinxDecoder.load(DEFAULT_MODEL, kind === 'lm');
  pool.loaded++;
  return decoder;
}

/**
 * Calls `use` with a decoder now, or once another utterance of this thread releases one (first
 * come, first served). Returns a function that withdraws a request not yet served.
 */
export function acquireDecoder(grammar: string | undefined, use: Waiter): () => void {
  const decoder = tryAcquireDecoder(grammar);
  if (decoder !== undefined) {
    use(decoder);
    return () => undefined;
  }
  const waiters = pools[kindOf(grammar)].waiters;
  waiters.push(use);
  return () => {
    const index = waiters.indexOf(use);
    if (index >= 0) waiters.splice(index, 1);
  };
}

/** Returns a decoder acquired for `grammar`: to the first waiting utterance, else idle. */
export function releaseDecoder(decoder: PocketsphinxDecoder, grammar: string | undefined): void {
  decoder.finish();
  const pool = pools[kindOf(grammar)];
  const waiter = pool.waiters.shift();
  if (waiter !== undefined) waiter(decoder);
  else pool.idle.push(decoder);
}

/** Decoders of this thread, for tests: loaded, idle and utterances waiting, by kind. */
export function decoderStats(): Record<DecoderKind, { loaded: number; idle: number; waiting: number }> {
  const stats = (pool: KindPool) => ({ loaded: pool.loaded, idle: pool.idle.length, waiting: pool.waiters.length });
  return { lm: stats(pools.lm), grammar: stats(pools.grammar) };
}
