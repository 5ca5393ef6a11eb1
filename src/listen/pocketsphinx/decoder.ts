// One pocketsphinx decoder (open-vocabulary LM, optionally JSGF grammars) and a per-thread cache
// of idle decoders, since loading one costs ~0.3 s and ~a few tens of MB.
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
  private readonly lmSearch: string;
  private inUtterance = false;

  private constructor(
    private readonly config: unknown,
    private readonly handle: unknown,
  ) {
    this.lmSearch = pocketsphinxLibrary().getSearch(handle) ?? '_default';
  }

  static load(model: PocketsphinxModel = DEFAULT_MODEL): PocketsphinxDecoder {
    const ps = pocketsphinxLibrary();
    // -fwdflat/-bestpath off: final text 10-175 ms after speech instead of up to 875 ms, same WER.
    const config = ps.cmdLnInit([
      '-hmm', model.hmm,
      '-lm', model.lm,
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
    return new PocketsphinxDecoder(config, handle);
  }

  /** Decode the next utterances with this JSGF grammar, or with the open LM when undefined. */
  useGrammar(jsgf: string | undefined): void {
    const ps = pocketsphinxLibrary();
    if (jsgf === undefined) {
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

/** Idle decoders of this thread beyond which released ones are freed. */
const MAX_IDLE_DECODERS = 2;
const idle: PocketsphinxDecoder[] = [];

export function acquireDecoder(): PocketsphinxDecoder {
  return idle.pop() ?? PocketsphinxDecoder.load();
}

export function releaseDecoder(decoder: PocketsphinxDecoder): void {
  decoder.finish();
  if (idle.length < MAX_IDLE_DECODERS) idle.push(decoder);
  else decoder.free();
}
