export interface ClientBufferBounds {
  /** Over this many queued bytes the client is too slow at once. */
  maxBytes: number;
  /** How long the client may stay over half of maxBytes before it is too slow. */
  graceMs: number;
}

/**
 * Watches the bytes queued for one client that its socket has not yet written out (after the
 * kernel's own buffers are full), so that a client that stops reading costs a bounded amount of
 * memory (docs/protocol-decisions.md#slow-clients).
 *
 * Two bounds. Audio goes out at real time (the playout clock paces it), so a client that reads
 * is never more than the playout lead and a few events behind; half of the default maxBytes is
 * over 20 s of audio at the highest output rate (48 kHz linear16). Past that half, agent audio
 * is dropped, not queued, and the client has graceMs to catch up (a stalled network may
 * recover). Only events are queued then, so maxBytes itself is reached only by a client whose
 * own messages keep being answered: that one is too slow at once.
 */
export class ClientBuffer {
  private graceTimer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly queuedBytes: () => number,
    private readonly bounds: ClientBufferBounds,
    private readonly tooSlow: (description: string) => void,
  ) {}

  /** Whether an agent audio frame may be queued now. */
  acceptsAudio(): boolean {
    return this.queuedBytes() <= this.bounds.maxBytes / 2;
  }

  /** After every send: trips at once over maxBytes, or starts (or ends) the grace period. */
  check(): void {
    if (this.done) return;
    const queued = this.queuedBytes();
    if (queued > this.bounds.maxBytes) {
      this.trip(`${queued} bytes are waiting to be sent to the client, over the limit of ${this.bounds.maxBytes}; the client is not reading`);
      return;
    }
    if (queued <= this.bounds.maxBytes / 2) {
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
      return;
    }
    this.graceTimer ??= setTimeout(() => {
      this.graceTimer = undefined;
      const still = this.queuedBytes();
      if (still > this.bounds.maxBytes / 2) {
        this.trip(`${still} bytes have waited over ${this.bounds.graceMs} ms to be sent to the client; the client is not reading`);
      }
    }, this.bounds.graceMs);
  }

  /** No more checks (the connection is closing). */
  stop(): void {
    this.done = true;
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  private trip(description: string): void {
    this.stop();
    this.tooSlow(description);
  }
}
