// Microphone capture: downmixes to mono, resamples to 16 kHz and posts 20 ms frames of
// little-endian 16-bit PCM with their RMS level. Plain JS because worklets load as-is.
const TARGET_RATE = 16000;
const FRAME = 320;

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE;
    this.position = 0;
    this.frame = new Int16Array(FRAME);
    this.filled = 0;
    this.energy = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const length = channels[0].length;
    // Mean of the input samples that fall into each output sample: cheap anti-aliasing.
    while (this.position < length) {
      const start = Math.floor(this.position);
      const end = Math.min(length, Math.max(start + 1, Math.floor(this.position + this.step)));
      let sum = 0;
      for (let i = start; i < end; i++) {
        for (let c = 0; c < channels.length; c++) sum += channels[c][i];
      }
      const value = Math.max(-1, Math.min(1, sum / ((end - start) * channels.length)));
      this.frame[this.filled++] = Math.round(value * 32767);
      this.energy += value * value;
      if (this.filled === FRAME) {
        const pcm = this.frame.buffer.slice(0);
        this.port.postMessage({ pcm, rms: Math.sqrt(this.energy / FRAME) }, [pcm]);
        this.filled = 0;
        this.energy = 0;
      }
      this.position += this.step;
    }
    this.position -= length;
    return true;
  }
}

registerProcessor('parley-capture', CaptureProcessor);
