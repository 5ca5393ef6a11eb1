/**
 * Polyphase windowed-sinc sample-rate conversion, written here rather than bound from a library:
 * the protocol's rates (8, 16, 22.05, 24, 32, 44.1, 48 kHz) reduce to small rational ratios, so a
 * table of exact filter phases per rate pair, shared by every stream of the process, leaves a
 * stream only its last few hundred input samples as state. A libsamplerate WASM module per
 * stream cost megabytes and tens of milliseconds to create; a native library would add an FFI
 * call per 20 ms frame on the event loop and a system package, and libsoxr's block convolution
 * adds delay and releases output in bursts. bench/audio/resampler.bench.ts compares this
 * converter with libsamplerate's.
 */
import { concatPcm16 } from './pcm16.js';

/** Flat (ripple under 0.001 dB) up to this fraction of the lower rate's Nyquist frequency: 3.5 kHz at 8 kHz. */
const PASSBAND_EDGE = 0.875;
/** Fully attenuated from the lower Nyquist frequency on, so nothing aliases. */
const STOPBAND_EDGE = 1;
/** Stopband attenuation of the Kaiser design: below 16-bit resolution. */
const STOPBAND_DB = 100;
/**
 * Ratios whose reduced numerator is at most this get one exact table row per phase; rarer ones
 * (a client declaring 47999 Hz) interpolate linearly between this many rows, within 1 LSB of
 * the exact phases, instead of a table of megabytes.
 */
const MAX_PHASES = 256;
/** Input samples converted per pass (under a millisecond): bounds the shared scratch buffer and resampleBuffer's steps. */
const BLOCK_SAMPLES = 4096;

/** The coefficients for one rate pair; immutable and shared by all streams converting it. */
interface FilterBank {
  /** Output samples per `down` input samples, the ratio in lowest terms. */
  up: number;
  down: number;
  /** Taps per phase, a multiple of 4: output sample at input time i + φ reads inputs i - taps/2 + 1 … i + taps/2. */
  taps: number;
  /** Table rows per input sample period; `up` when exact. */
  phases: number;
  /** Row r (phase r / phases) at r × taps; one extra row, phase 1, when interpolating. */
  coefficients: Float32Array;
}

/**
 * Banks designed so far, least recently used first. Bounded because a client may declare any
 * rate from 8 to 48 kHz; an evicted bank lives on in the streams that use it.
 */
const banks = new Map<string, FilterBank>();
const MAX_BANKS = 64;

/** One process-wide window for convertBlock (single-threaded and synchronous, so never shared in flight). */
let scratch = new Float32Array(0);

/**
 * Designs (once per process) the filter for a rate pair. Sessions call it when they are set up
 * so that no reply pays for a design; the largest table (8 → 44.1 kHz) takes a few milliseconds.
 */
export function prepareResampler(fromRate: number, toRate: number): void {
  assertRate(fromRate);
  assertRate(toRate);
  if (fromRate !== toRate) filterBank(fromRate, toRate);
}

function filterBank(fromRate: number, toRate: number): FilterBank {
  const key = `${fromRate}>${toRate}`;
  const bank = banks.get(key) ?? designBank(fromRate, toRate);
  banks.delete(key);
  banks.set(key, bank);
  if (banks.size > MAX_BANKS) banks.delete(banks.keys().next().value as string);
  return bank;
}

/** Kaiser-windowed sinc, its length and window shape from Kaiser's formulas for the attenuation and transition width. */
function designBank(fromRate: number, toRate: number): FilterBank {
  const divisor = gcd(fromRate, toRate);
  const up = toRate / divisor;
  const down = fromRate / divisor;
  // Frequencies in cycles per input sample.
  const nyquist = Math.min(fromRate, toRate) / 2 / fromRate;
  const cutoff = ((PASSBAND_EDGE + STOPBAND_EDGE) / 2) * nyquist;
  const transition = (STOPBAND_EDGE - PASSBAND_EDGE) * nyquist;
  const taps = 4 * Math.ceil((STOPBAND_DB - 7.95) / (14.36 * transition) / 4);
  const half = taps / 2;
  const beta = 0.1102 * (STOPBAND_DB - 8.7);
  const windowScale = 1 / besselI0(beta);
  const phases = Math.min(up, MAX_PHASES);
  const rows = phases === up ? up : phases + 1;
  const coefficients = new Float32Array(rows * taps);
  const row = new Float64Array(taps);
  for (let r = 0; r < rows; r++) {
    const phase = r / phases;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      // Distance in input samples from the output instant to input i + (k - half + 1).
      const t = phase + half - 1 - k;
      const x = t / half;
      const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - x * x))) * windowScale;
      const arg = 2 * cutoff * t;
      const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
      row[k] = 2 * cutoff * sinc * window;
      sum += row[k] as number;
    }
    // Unit gain at DC for every phase, or the ripple between phases would be a tone at the input rate.
    for (let k = 0; k < taps; k++) coefficients[r * taps + k] = (row[k] as number) / sum;
  }
  return { up, down, taps, phases, coefficients };
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const quarter = (x * x) / 4;
  for (let k = 1; term > sum * 1e-12; k++) {
    term *= quarter / (k * k);
    sum += term;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function assertRate(rate: number): void {
  if (!Number.isInteger(rate) || rate < 1000 || rate > 192000) throw new RangeError(`unsupported sample rate ${rate}`);
}

/**
 * Mono 16-bit PCM sample-rate converter that keeps its filter state across calls, so audio
 * cut into chunks of any size comes out exactly as if converted in one piece. Equal rates pass
 * through. Its own state is the last `taps - 1` input samples (at most about 2.5 kB); the
 * coefficients are shared per rate pair.
 *
 * Output sample n is the input at instant n × fromRate / toRate, so output and input are
 * aligned; it comes out once the input half a filter length past that instant has arrived.
 * `flush()` pushes that tail out so that the total output is round(total input × ratio) samples.
 */
export class StreamingResampler {
  readonly ratio: number;
  private readonly bank: FilterBank | null;
  /** Input samples inputCount - history.length … inputCount - 1 (zeros before the stream began). */
  private readonly history: Float32Array;
  private inputCount = 0;
  private outputCount = 0;
  /** Next output's instant: input sample nextInput plus nextPhase / up. */
  private nextInput = 0;
  private nextPhase = 0;
  private destroyed = false;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    assertRate(fromRate);
    assertRate(toRate);
    this.ratio = toRate / fromRate;
    this.bank = fromRate === toRate ? null : filterBank(fromRate, toRate);
    this.history = new Float32Array(this.bank === null ? 0 : this.bank.taps - 1);
  }

  /** For callers that await their converter; construction is synchronous and cheap. */
  static create(fromRate: number, toRate: number): Promise<StreamingResampler> {
    return Promise.resolve().then(() => new StreamingResampler(fromRate, toRate));
  }

  /** Converts the next piece of the stream. With equal rates it returns `samples` itself. */
  process(samples: Int16Array): Int16Array {
    const bank = this.usable();
    if (bank === null) return samples;
    const out = new Int16Array(Math.ceil((samples.length * bank.up) / bank.down) + 1);
    let written = 0;
    for (let start = 0; start < samples.length; start += BLOCK_SAMPLES) {
      written = this.convertBlock(bank, samples.subarray(start, start + BLOCK_SAMPLES), out, written);
    }
    this.outputCount += written;
    return out.subarray(0, written);
  }

  /**
   * Ends the stream: returns the samples still inside the filter, so that the whole output is
   * round(input × ratio) samples long, and resets the state for a new stream.
   */
  flush(): Int16Array {
    const bank = this.usable();
    if (bank === null) return new Int16Array(0);
    const missing = Math.round((this.inputCount * bank.up) / bank.down) - this.outputCount;
    // `taps` zeros reach past the last output's window (its instant is before inputCount).
    const tail = this.process(new Int16Array(bank.taps));
    this.reset();
    return tail.slice(0, Math.max(0, missing));
  }

  /** Forgets the stream so far (what is inside the filter is dropped), e.g. after a barge-in. */
  reset(): void {
    this.usable();
    this.history.fill(0);
    this.inputCount = 0;
    this.outputCount = 0;
    this.nextInput = 0;
    this.nextPhase = 0;
  }

  /** Marks the resampler unusable; safe to call twice. */
  destroy(): void {
    this.destroyed = true;
  }

  private usable(): FilterBank | null {
    if (this.destroyed) throw new Error('StreamingResampler used after destroy()');
    return this.bank;
  }

  /** Appends to `out` at `offset` every output whose window `block` completes. */
  private convertBlock(bank: FilterBank, block: Int16Array, out: Int16Array, offset: number): number {
    const { up, down, taps, phases, coefficients } = bank;
    const held = this.history.length;
    if (scratch.length < held + BLOCK_SAMPLES) scratch = new Float32Array(held + BLOCK_SAMPLES);
    const window = scratch;
    window.set(this.history);
    for (let k = 0; k < block.length; k++) window[held + k] = block[k] as number;
    const first = this.inputCount - held;
    const last = this.inputCount + block.length - 1;
    const half = taps / 2;
    const exact = phases === up;
    let input = this.nextInput;
    let phase = this.nextPhase;
    let written = offset;
    while (input + half <= last) {
      const start = input - half + 1 - first;
      let value: number;
      if (exact) {
        value = dot(window, start, coefficients, phase * taps, taps);
      } else {
        const position = (phase * phases) / up;
        const row = Math.floor(position);
        const below = dot(window, start, coefficients, row * taps, taps);
        const above = dot(window, start, coefficients, (row + 1) * taps, taps);
        value = below + (above - below) * (position - row);
      }
      const rounded = Math.round(value);
      out[written++] = rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
      phase += down;
      input += Math.floor(phase / up);
      phase %= up;
    }
    this.history.set(window.subarray(block.length, block.length + held));
    this.inputCount += block.length;
    this.nextInput = input;
    this.nextPhase = phase;
    return written;
  }
}

/** `length` is a multiple of 4 (taps); four accumulators let the multiplications overlap. */
function dot(a: Float32Array, aStart: number, b: Float32Array, bStart: number, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = 0; k < length; k += 4) {
    const i = aStart + k;
    const j = bStart + k;
    s0 += (a[i] as number) * (b[j] as number);
    s1 += (a[i + 1] as number) * (b[j + 1] as number);
    s2 += (a[i + 2] as number) * (b[j + 2] as number);
    s3 += (a[i + 3] as number) * (b[j + 3] as number);
  }
  return s0 + s1 + (s2 + s3);
}

/**
 * Converts a whole buffer, yielding to the event loop between blocks so that a long buffer
 * does not stall other sessions.
 */
export async function resampleBuffer(samples: Int16Array, fromRate: number, toRate: number): Promise<Int16Array> {
  if (fromRate === toRate) return samples.slice();
  const resampler = new StreamingResampler(fromRate, toRate);
  const parts: Int16Array[] = [];
  for (let start = 0; start < samples.length; start += BLOCK_SAMPLES) {
    parts.push(resampler.process(samples.subarray(start, start + BLOCK_SAMPLES)));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  parts.push(resampler.flush());
  return concatPcm16(parts);
}

