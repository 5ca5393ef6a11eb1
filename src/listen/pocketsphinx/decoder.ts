// One pocketsphinx decoder (open-vocabulary LM plus JSGF grammar searches) and the bounded set of
// them each thread reuses, since loading one costs ~0.2 s and 92 MB.
import { createHash } from 'node:crypto';
import koffi from 'koffi';
import { concatPcm16 } from '../../audio/pcm16.js';
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

/**
 * Where sphinxbase 0.8+5prealpha keeps the CMN state in its feat_t (x86-64), which it does not
 * expose otherwise: checked against fields of known value when a decoder loads.
 */
const FEAT = { cepsize: 16, cmnType: 68, cmnStruct: 88 } as const;
const CMN_STRUCT_VECLEN = 28;
const CMN_BATCH = 1;

/**
 * Audio held at the start of each utterance before pocketsphinx sees any: when its first call
 * had less (up to 1600 samples measured; 2400 never), the first frames' features were computed
 * with frames left over from the decoder's previous utterance, so the same clip decoded
 * differently after different sessions.
 */
const FIRST_CALL_SAMPLES = 4000;

/**
 * What every decoder hears once when it loads: a freshly loaded decoder decoded its first
 * utterance differently from all its later ones (whatever they followed), so none is left fresh.
 * 0.3 s of silence, then 0.7 s of fixed pseudo-random noise (speech to pocketsphinx's own VAD).
 */
function seasoningAudio(): Int16Array {
  const audio = new Int16Array(16000);
  let state = 1;
  for (let i = 4800; i < audio.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    audio[i] = ((state >>> 16) % 6000) - 3000;
  }
  return audio;
}

/** The search of a phone-loop decoder (PocketsphinxDecoder.loadPhoneLoop). */
const PHONE_LOOP = 'phones';

/** What a search heard in one utterance. */
export interface Reading {
  text: string;
  /** The best path's score (log, the decoder's units: higher is likelier). */
  score: number;
  /** Frames (10 ms) of the utterance. */
  frames: number;
  /** Inclusive frames of the first and last word (phone, in the phone loop) that is not silence or noise; -1 when none. */
  from: number;
  to: number;
}

/** Which search decodes an utterance: a JSGF grammar, the open language model, or the phone loop. */
export type Search = { jsgf: string } | 'lm' | 'phones';

/** Silence and noise entries of the model's noisedict, as words or as phones. */
const NOT_SPEECH = /^(<s>|<\/s>|<sil>|\[NOISE\]|\[SPEECH\]|SIL|\+NSN\+|\+SPN\+)$/;

export class PocketsphinxDecoder {
  /** Grammar searches this decoder holds, least recently used first. */
  private readonly grammars = new Set<string>();
  private readonly lmSearch: string;
  private readonly feat: unknown;
  private readonly cmn: unknown;
  /** The model's starting cepstral mean (its -cmninit), for a session with no estimate yet. */
  readonly initialMean: Float32Array;
  private inUtterance = false;
  /** The utterance's first audio, not yet given to pocketsphinx (FIRST_CALL_SAMPLES). */
  private held: Int16Array[] = [];
  private heldSamples = 0;
  /** Whether the utterance's audio still goes to `held`. */
  private holding = false;

  private constructor(
    private readonly config: unknown,
    private readonly handle: unknown,
    /** A phone loop only (no words, no LM), or the open LM with grammars added as needed. */
    readonly phoneLoop = false,
  ) {
    const ps = pocketsphinxLibrary();
    this.lmSearch = phoneLoop ? PHONE_LOOP : (ps.getSearch(handle) ?? '_default');
    this.feat = ps.getFeat(handle);
    const cepsize = koffi.decode(this.feat, FEAT.cepsize, 'int') as number;
    const cmnType = koffi.decode(this.feat, FEAT.cmnType, 'int') as number;
    const cmn: unknown = koffi.decode(this.feat, FEAT.cmnStruct, 'void *');
    if (cmn === null || cepsize < 1 || cepsize > 64 || cmnType !== CMN_BATCH || koffi.decode(cmn, CMN_STRUCT_VECLEN, 'int') !== cepsize) {
      throw new Error('this libsphinxbase lays out its feature state differently than 0.8+5prealpha');
    }
    this.cmn = cmn;
    this.initialMean = new Float32Array(cepsize);
    ps.cmnLiveGet(cmn, this.initialMean);
    this.decode(phoneLoop ? 'phones' : 'lm', seasoningAudio());
  }

  /**
   * `scoreAllSenones`: every senone is scored in every frame, not only those of the search's active
   * states. Pocketsphinx scores each frame relative to its best scored senone, so otherwise a
   * reading's score depends on how much its search explored: the same grammar reading of the
   * same audio scored up to 9 per frame worse with wider beams (one diagnostic run, not a benchmark). Scored against all senones, readings
   * of different searches are comparable (grammar-check.ts); the words found are the same.
   */
  static load(model: PocketsphinxModel = DEFAULT_MODEL, { scoreAllSenones = false } = {}): PocketsphinxDecoder {
    const ps = pocketsphinxLibrary();
    // -fwdflat/-bestpath off: final text 10-175 ms after speech instead of up to 875 ms, same WER.
    const config = ps.cmdLnInit([
      '-hmm', model.hmm,
      '-lm', model.lm,
      '-dict', model.dict,
      '-fwdflat', 'no',
      '-bestpath', 'no',
      '-compallsen', scoreAllSenones ? 'yes' : 'no',
    ]);
    if (config === null) throw new Error(`pocketsphinx rejected its configuration (model files under ${model.hmm}?)`);
    const handle = ps.init(config);
    if (handle === null) {
      ps.cmdLnFree(config);
      throw new Error(`pocketsphinx could not load its model from ${model.hmm}`);
    }
    return new PocketsphinxDecoder(config, handle);
  }

  /**
   * A decoder with only a phone loop: how well free phones fit an utterance, the yardstick of a
   * grammar's reading (grammar-check.ts). It is a decoder of its own, 6 MB, because adding the
   * phone loop to a word decoder changed what its LM and grammars heard. It scores all senones,
   * as the decoder it is compared with must (load's `scoreAllSenones`).
   */
  static loadPhoneLoop(model: PocketsphinxModel = DEFAULT_MODEL): PocketsphinxDecoder {
    const ps = pocketsphinxLibrary();
    // No words; context-independent phones, since context-dependent ones took 3-9 s per short
    // utterance instead of ~40 ms, as much as a grammar's decode.
    const config = ps.cmdLnInit(['-hmm', model.hmm, '-dict', '/dev/null', '-allphone_ci', 'yes', '-compallsen', 'yes']);
    if (config === null) throw new Error(`pocketsphinx rejected its configuration (model files under ${model.hmm}?)`);
    const handle = ps.init(config);
    if (handle === null || ps.setAllphone(handle, PHONE_LOOP, null) < 0) {
      if (handle !== null) ps.free(handle);
      ps.cmdLnFree(config);
      throw new Error(`pocketsphinx could not load its phone loop from ${model.hmm}`);
    }
    return new PocketsphinxDecoder(config, handle, true);
  }

  /**
   * Adds a JSGF grammar search to this decoder (once); throws when pocketsphinx rejects it. Past
   * MAX_GRAMMARS_PER_DECODER the least recently used one is freed: clients choose grammars, and a
   * decoder lives as long as its thread.
   */
  addGrammar(jsgf: string): string {
    if (this.phoneLoop) throw new Error('a phone-loop decoder has no words for a grammar');
    const name = 'g' + createHash('sha1').update(jsgf).digest('hex').slice(0, 16);
    if (this.grammars.delete(name)) {
      this.grammars.add(name);
      return name;
    }
    const ps = pocketsphinxLibrary();
    if (ps.setJsgfString(this.handle, name, jsgf) < 0) throw new Error('pocketsphinx rejected the JSGF grammar');
    this.grammars.add(name);
    for (const oldest of this.grammars) {
      if (this.grammars.size <= MAX_GRAMMARS_PER_DECODER) break;
      ps.unsetSearch(this.handle, oldest);
      this.grammars.delete(oldest);
    }
    return name;
  }

  /** Grammar searches held (for tests). */
  grammarCount(): number {
    return this.grammars.size;
  }

  /**
   * Starts an utterance on a grammar, or the open LM (undefined), normalized from `mean` (the
   * session's own estimate): the running cepstral mean would otherwise carry over from whatever
   * this decoder heard last.
   */
  start(mean: Float32Array, jsgf?: string): void {
    const ps = pocketsphinxLibrary();
    const search = jsgf === undefined ? this.lmSearch : this.addGrammar(jsgf);
    if (ps.setSearch(this.handle, search) < 0) throw new Error('pocketsphinx could not switch its search');
    ps.cmnLiveSet(this.cmn, mean);
    this.startUtterance();
    this.holding = true;
  }

  /**
   * Starts an utterance as a new stream: the front end's noise and silence tracking (which
   * pocketsphinx otherwise carries from utterance to utterance, from whichever session this
   * decoder served last) starts afresh.
   */
  private startUtterance(): void {
    const ps = pocketsphinxLibrary();
    if (ps.startStream(this.handle) < 0 || ps.startUtt(this.handle) < 0) throw new Error('pocketsphinx could not start an utterance');
    this.inUtterance = true;
    this.held = [];
    this.heldSamples = 0;
  }

  process(samples: Int16Array): void {
    if (!this.holding) {
      this.processRaw(samples);
      return;
    }
    this.held.push(samples.slice());
    this.heldSamples += samples.length;
    if (this.heldSamples >= FIRST_CALL_SAMPLES) this.release();
  }

  /** Gives the held start of the utterance to pocketsphinx in one call. */
  private release(): void {
    this.holding = false;
    if (this.heldSamples === 0) return;
    const first = concatPcm16(this.held);
    this.held = [];
    this.heldSamples = 0;
    this.processRaw(first);
  }

  private processRaw(samples: Int16Array): void {
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
    this.release();
    this.inUtterance = false;
    pocketsphinxLibrary().endUtt(this.handle);
    return this.partial();
  }

  /**
   * Decodes a whole utterance with a grammar (added here if new) or the open LM (undefined),
   * normalized by the utterance's own cepstral mean (batch CMN, which pocketsphinx applies only
   * to whole utterances).
   */
  decodeWhole(jsgf: string | undefined, samples: Int16Array): string {
    return this.decode(jsgf === undefined ? 'lm' : { jsgf }, samples).text;
  }

  /**
   * Decodes a whole utterance with `search`: normalized by its own cepstral mean (batch CMN), or,
   * given `mean`, live from it in `pieces` (sample counts), as a session's later utterances are
   * decoded while they are heard.
   */
  decode(search: Search, samples: Int16Array, mean?: Float32Array, pieces: readonly number[] = [samples.length]): Reading {
    const ps = pocketsphinxLibrary();
    if ((search === 'phones') !== this.phoneLoop) throw new Error(`this decoder has no ${search === 'phones' ? 'phone loop' : 'words'}`);
    const name = search === 'lm' || search === 'phones' ? this.lmSearch : this.addGrammar(search.jsgf);
    if (ps.setSearch(this.handle, name) < 0) throw new Error('pocketsphinx could not switch its search');
    // Streaming audio turns the model's batch CMN into live CMN for good; set it back.
    if (mean === undefined) koffi.encode(this.feat, FEAT.cmnType, 'int', CMN_BATCH);
    else {
      // cmn_live_set reads as many floats as the model's cepstra.
      if (mean.length !== this.initialMean.length) throw new Error(`a cepstral mean has ${this.initialMean.length} values, not ${mean.length}`);
      ps.cmnLiveSet(this.cmn, mean);
    }
    this.startUtterance();
    this.holding = mean !== undefined;
    if (mean === undefined) {
      if (ps.processRaw(this.handle, samples, samples.length, 0, 1) < 0) throw new Error('pocketsphinx failed to process audio');
    } else {
      // Live CMN moves its mean as it goes, after each call: the pieces the audio was heard in
      // give the same features as when it was heard.
      let offset = 0;
      for (const length of pieces) {
        this.process(samples.subarray(offset, offset + length));
        offset += length;
      }
      if (offset < samples.length) this.process(samples.subarray(offset));
    }
    this.finish();
    return this.reading();
  }

  /** What the last utterance's search heard, with its score and where its words lie. */
  private reading(): Reading {
    const ps = pocketsphinxLibrary();
    const { text, score } = ps.getHypScored(this.handle);
    let from = -1;
    let to = -1;
    for (const segment of ps.segments(this.handle)) {
      if (NOT_SPEECH.test(segment.word)) continue;
      if (from < 0) from = segment.from;
      to = segment.to;
    }
    return { text: text ?? '', score, frames: ps.getNFrames(this.handle), from, to };
  }

  /** The cepstral mean after the last utterance: live-updated, or a whole utterance's own. */
  mean(): Float32Array {
    const mean = new Float32Array(this.initialMean.length);
    pocketsphinxLibrary().cmnLiveGet(this.cmn, mean);
    return mean;
  }

  free(): void {
    const ps = pocketsphinxLibrary();
    if (this.inUtterance) ps.endUtt(this.handle);
    ps.free(this.handle);
    ps.cmdLnFree(this.config);
  }
}

/**
 * Decoders each thread may hold. They are loaded on demand up to this bound and never freed: a
 * freed pocketsphinx decoder does not give its memory back to the OS (glibc keeps it), so
 * load/free churn made RSS grow round after round of sessions, while a fixed set is reused.
 * Each carries the open LM and the grammar searches of the sessions it served, since a grammar
 * session decodes with both. A thread decodes one utterance at a time
 * anyway; more decoders only let more utterances be decoded live, and the others catch up from
 * their buffered audio (far faster than real time) when one frees.
 */
export const MAX_DECODERS = 4;

/** Grammar searches one decoder keeps (the default rules' compiles in about 4.5 kB). */
export const MAX_GRAMMARS_PER_DECODER = 16;

type Waiter = (decoder: PocketsphinxDecoder) => void;

const idle: PocketsphinxDecoder[] = [];
const waiters: Waiter[] = [];
let loaded = 0;

/** An idle decoder, loading one while under the bound; undefined when all are busy. */
export function tryAcquireDecoder(): PocketsphinxDecoder | undefined {
  const decoder = idle.pop();
  if (decoder !== undefined || loaded >= MAX_DECODERS) return decoder;
  const fresh = PocketsphinxDecoder.load(DEFAULT_MODEL);
  loaded++;
  return fresh;
}

/**
 * Calls `use` with a decoder now, or once another utterance of this thread releases one (first
 * come, first served). Returns a function that withdraws a request not yet served.
 */
export function acquireDecoder(use: Waiter): () => void {
  const decoder = tryAcquireDecoder();
  if (decoder !== undefined) {
    use(decoder);
    return () => undefined;
  }
  waiters.push(use);
  return () => {
    const index = waiters.indexOf(use);
    if (index >= 0) waiters.splice(index, 1);
  };
}

/** Returns an acquired decoder: to the first waiting utterance, else idle. */
export function releaseDecoder(decoder: PocketsphinxDecoder): void {
  decoder.finish();
  const waiter = waiters.shift();
  if (waiter !== undefined) waiter(decoder);
  else idle.push(decoder);
}

/** Decoders of this thread, for tests: loaded, idle and utterances waiting. */
export function decoderStats(): { loaded: number; idle: number; waiting: number } {
  return { loaded, idle: idle.length, waiting: waiters.length };
}
