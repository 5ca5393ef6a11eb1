/** Amplitude of the `hz` component over the middle half of a signal (Goertzel), where onsets no longer ring. */
export function toneAmplitude(samples: Int16Array, rate: number, hz: number): number {
  const from = Math.floor(samples.length / 4);
  const to = Math.floor((3 * samples.length) / 4);
  const w = (2 * Math.PI * hz) / rate;
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += (samples[i] as number) * Math.cos(w * i);
    im -= (samples[i] as number) * Math.sin(w * i);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}
