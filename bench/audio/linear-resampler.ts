/**
 * The naive baseline the sinc converters are compared with: streaming linear interpolation,
 * no anti-aliasing filter. Cheap and audibly worse (aliasing when downsampling).
 */
export class LinearResampler {
  private readonly step: number;
  /** Next output position in [previous, ...chunk] coordinates: 1 is the chunk's first sample. */
  private position = 1;
  private previous = 0;

  constructor(fromRate: number, toRate: number) {
    this.step = fromRate / toRate;
  }

  process(input: Int16Array): Int16Array {
    const n = input.length;
    const out = new Int16Array(Math.max(0, Math.ceil((n - this.position) / this.step)));
    let written = 0;
    let pos = this.position;
    while (pos < n && written < out.length) {
      const index = Math.floor(pos);
      const a = index === 0 ? this.previous : (input[index - 1] as number);
      const b = input[index] as number;
      out[written++] = Math.round(a + (b - a) * (pos - index));
      pos += this.step;
    }
    this.position = pos - n;
    if (n > 0) this.previous = input[n - 1] as number;
    return out.subarray(0, written);
  }
}

export function tone(rate: number, ms: number, hz = 440, amplitude = 10000): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}
