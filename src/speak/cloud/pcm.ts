/**
 * Turns a byte stream of little-endian PCM16 into whole samples. Network chunks may split a
 * sample; the odd byte is carried into the next chunk.
 */
export class PcmAssembler {
  private carry: number | undefined;

  push(bytes: Uint8Array): Int16Array | undefined {
    let data = bytes;
    if (this.carry !== undefined && bytes.length > 0) {
      data = new Uint8Array(bytes.length + 1);
      data[0] = this.carry;
      data.set(bytes, 1);
      this.carry = undefined;
    }
    const whole = data.length - (data.length % 2);
    if (whole < data.length) this.carry = data[data.length - 1];
    if (whole === 0) return undefined;
    // Copy: the source may sit at an odd offset, and consumers keep chunks after the next read.
    const samples = new Int16Array(whole / 2);
    new Uint8Array(samples.buffer).set(data.subarray(0, whole));
    return samples;
  }
}
