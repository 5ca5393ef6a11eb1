/**
 * Records everything an AgentClient emits (through its async iteration) so that tests can wait
 * for an event that may already have arrived: no race between sending and listening.
 */
import type { AgentClient, AgentEvent } from '../../../src/client/index.js';

type Of<T extends AgentEvent['type']> = Extract<AgentEvent, { type: T }>;

export class Recorder {
  readonly events: AgentEvent[] = [];
  #waiters: (() => void)[] = [];
  ended = false;

  constructor(client: AgentClient) {
    void (async () => {
      for await (const event of client) {
        this.events.push(event);
        for (const wake of this.#waiters.splice(0)) wake();
      }
      this.ended = true;
      for (const wake of this.#waiters.splice(0)) wake();
    })();
  }

  mark(): number {
    return this.events.length;
  }

  since<T extends AgentEvent['type']>(mark: number, type: T): Of<T>[] {
    return this.events.slice(mark).filter((e): e is Of<T> => e.type === type);
  }

  audioBytesSince(mark: number): number {
    return this.since(mark, 'Audio').reduce((n, e) => n + e.data.byteLength, 0);
  }

  /** The first event of `type` at or after `mark` that matches; fails after `timeoutMs`. */
  async waitFor<T extends AgentEvent['type']>(
    type: T,
    mark = 0,
    match: (event: Of<T>) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<Of<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.since(mark, type).find(match);
      if (found) return found;
      if (this.ended || Date.now() > deadline) {
        const seen = this.events.slice(mark).map((e) => e.type).join(', ');
        throw new Error(`no matching ${type}${this.ended ? ' before close' : ''}; saw ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
