// koffi bindings to Debian's libpocketsphinx.so.3 (0.8+5prealpha API): loaded once per thread.
import koffi from 'koffi';

export interface PocketsphinxLibrary {
  /** cmd_ln_init(NULL, ps_args(), strict, 'const char *', name, 'const char *', value, ..., NULL). */
  cmdLnInit(args: readonly string[]): unknown;
  cmdLnFree(config: unknown): number;
  init(config: unknown): unknown;
  free(decoder: unknown): number;
  /** Starts a new stream: resets the front end's noise and silence tracking (ps_start_stream). */
  startStream(decoder: unknown): number;
  startUtt(decoder: unknown): number;
  processRaw(decoder: unknown, samples: Int16Array, count: number, noSearch: number, fullUtt: number): number;
  endUtt(decoder: unknown): number;
  getHyp(decoder: unknown): string | null;
  /** The best hypothesis with its path score (log, the decoder's units: higher is likelier). */
  getHypScored(decoder: unknown): { text: string | null; score: number };
  /** Frames (10 ms) of the current or last utterance. */
  getNFrames(decoder: unknown): number;
  /** The best hypothesis' segments (words, silences, fillers, or phones of a phone loop), with inclusive frames. */
  segments(decoder: unknown): Array<{ word: string; from: number; to: number }>;
  /** Adds a phone-loop search (no phone LM: every phone may follow any other). */
  setAllphone(decoder: unknown, name: string, lm: null): number;
  setJsgfString(decoder: unknown, name: string, jsgf: string): number;
  setSearch(decoder: unknown, name: string): number;
  /** Removes a search and frees it (ps_unset_search). */
  unsetSearch(decoder: unknown, name: string): number;
  getSearch(decoder: unknown): string | null;
  /** The decoder's feature extractor (feat_t *). */
  getFeat(decoder: unknown): unknown;
  /** Sets the running cepstral mean (cmn_live_set: 13 floats). */
  cmnLiveSet(cmn: unknown, mean: Float32Array): void;
  /** Reads the current cepstral mean, live or that of the last whole-utterance (batch) pass. */
  cmnLiveGet(cmn: unknown, mean: Float32Array): void;
}

export const LIBRARY_NAME = 'libpocketsphinx.so.3';
/** The cepstral mean normalization (cmn_*) lives in sphinxbase. */
export const SPHINXBASE_NAME = 'libsphinxbase.so.3';

let library: PocketsphinxLibrary | undefined;

export function pocketsphinxLibrary(): PocketsphinxLibrary {
  if (library !== undefined) return library;
  const lib = koffi.load(LIBRARY_NAME);
  const sphinxbase = koffi.load(SPHINXBASE_NAME);
  // Silences sphinxbase's log, which is one FILE for the whole process. Giving each decoder
  // `-logfn` instead made every load open a new log and fclose the one other threads' loads were
  // writing to: decoders loaded in several threads at once crashed (SIGSEGV, glibc's heap
  // corruption abort) or hung (docs/architecture.md, "Pocketsphinx threads"). Setting it to NULL
  // closes nothing, so every thread may call it.
  (sphinxbase.func('void err_set_logfp(void *stream)') as (stream: null) => void)(null);
  const psArgs = lib.func('const void *ps_args(void)');
  const cmdLnInit = lib.func('void *cmd_ln_init(void *inout, const void *defn, int strict, ...)');
  const getHyp = lib.func('const char *ps_get_hyp(void *ps, _Out_ int *score)');
  const segIter = lib.func('void *ps_seg_iter(void *ps)');
  const segNext = lib.func('void *ps_seg_next(void *seg)');
  const segWord = lib.func('const char *ps_seg_word(void *seg)');
  const segFrames = lib.func('void ps_seg_frames(void *seg, _Out_ int *sf, _Out_ int *ef)');
  library = {
    cmdLnInit: (args) => {
      const variadic: unknown[] = [];
      for (const arg of args) variadic.push('const char *', arg);
      variadic.push('const char *', null);
      const config: unknown = cmdLnInit(null, psArgs(), 1, ...variadic);
      return config;
    },
    cmdLnFree: lib.func('int cmd_ln_free_r(void *config)'),
    init: lib.func('void *ps_init(void *config)'),
    free: lib.func('int ps_free(void *ps)'),
    startStream: lib.func('int ps_start_stream(void *ps)'),
    startUtt: lib.func('int ps_start_utt(void *ps)'),
    processRaw: lib.func('int ps_process_raw(void *ps, const int16_t *data, size_t n, int noSearch, int fullUtt)'),
    endUtt: lib.func('int ps_end_utt(void *ps)'),
    getHyp: (decoder) => getHyp(decoder, [0]) as string | null,
    getHypScored: (decoder) => {
      const score = [0];
      const text = getHyp(decoder, score) as string | null;
      return { text, score: score[0] ?? 0 };
    },
    getNFrames: lib.func('int ps_get_n_frames(void *ps)'),
    segments: (decoder) => {
      const out: Array<{ word: string; from: number; to: number }> = [];
      // ps_seg_next frees the iterator at the end.
      for (let seg: unknown = segIter(decoder); seg !== null; seg = segNext(seg)) {
        const from = [0];
        const to = [0];
        segFrames(seg, from, to);
        out.push({ word: segWord(seg) as string, from: from[0] ?? 0, to: to[0] ?? 0 });
      }
      return out;
    },
    setAllphone: lib.func('int ps_set_allphone(void *ps, const char *name, void *lm)'),
    setJsgfString: lib.func('int ps_set_jsgf_string(void *ps, const char *name, const char *jsgf)'),
    setSearch: lib.func('int ps_set_search(void *ps, const char *name)'),
    unsetSearch: lib.func('int ps_unset_search(void *ps, const char *name)'),
    getSearch: lib.func('const char *ps_get_search(void *ps)'),
    getFeat: lib.func('void *ps_get_feat(void *ps)'),
    cmnLiveSet: sphinxbase.func('void cmn_live_set(void *cmn, const float *vec)'),
    cmnLiveGet: sphinxbase.func('void cmn_live_get(void *cmn, _Out_ float *vec)'),
  };
  return library;
}
