/**
 * Aborts a provider request when the outer signal aborts or when nothing arrived for
 * `timeoutMs`: a server that never answers, or stalls mid-stream, must not hang a turn.
 */
export class Watchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private expired = false;
  private completed = false;
  private readonly onOuterAbort = (): void => this.controller.abort(this.outer.reason);

  constructor(
    readonly timeoutMs: number,
    private readonly outer: AbortSignal,
  ) {
    if (outer.aborted) this.controller.abort(outer.reason);
    else outer.addEventListener('abort', this.onOuterAbort, { once: true });
    this.kick();
  }

  /** Aborted on timeout or when the caller aborts. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True when the timeout fired (as opposed to the caller aborting). */
  get timedOut(): boolean {
    return this.expired;
  }

  /** Progress was made: restart the idle timer. */
  kick(): void {
    clearTimeout(this.timer);
    if (this.controller.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new Error(`no response within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  /** The consumer holds the item: its own slowness is not the server's. */
  pause(): void {
    clearTimeout(this.timer);
  }

  /** The response was read to its end: nothing is left to abort. */
  complete(): void {
    this.completed = true;
  }

  /** Ends the request if it is still open (the consumer stopped early) and frees the timer. */
  dispose(): void {
    clearTimeout(this.timer);
    this.outer.removeEventListener('abort', this.onOuterAbort);
    // Aborting a finished request would only cost an Error and fetch's abort handling, every turn.
    if (!this.completed && !this.controller.signal.aborted) this.controller.abort(new Error('request finished'));
  }
}
