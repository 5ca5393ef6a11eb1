import { floatToPcm16 } from './pcm16.js';

/**
 * `linear32` client audio: 32-bit little-endian float samples (docs/protocol-decisions.md#compressed-audio),
 * cut anywhere across messages, to PCM16. Out-of-range values clip; NaN becomes silence.
 */
export class Float32Assembler {
  /** Bytes of a sample split across pushes. */
  private readonly carry = new Uint8Array(4);
  private carried = 0;

  push(bytes: Uint8Array): Int16Array {
    const total = this.carried + bytes.length;
    const out = new Int16Array(total >> 2);
    let written = 0;
    let offset = 0;
    if (this.carried > 0) {
      const take = Math.min(4 - this.carried, bytes.length);
      this.carry.set(bytes.subarray(0, take), this.carried);
      this.carried += take;
      offset = take;
      if (this.carried < 4) return out;
      out[written++] = toPcm16(new DataView(this.carry.buffer).getFloat32(0, true));
      this.carried = 0;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (; offset + 4 <= bytes.length; offset += 4) out[written++] = toPcm16(view.getFloat32(offset, true));
    const rest = bytes.length - offset;
    if (rest > 0) {
      this.carry.set(bytes.subarray(offset));
      this.carried = rest;
    }
    return out.subarray(0, written);
  }
}

function toPcm16(value: number): number {
  return Number.isNaN(value) ? 0 : floatToPcm16(value);
}
