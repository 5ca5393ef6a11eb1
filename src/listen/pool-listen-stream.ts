import { ProviderError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { GrammarCheck, ListenJobEvent, ListenJobInput } from './pocketsphinx/listen-job.js';
import type { PoolJob } from '../workers/worker-pool.js';
import type { ListenEvents, ListenStream } from './types.js';
import { AudioArrivals } from './audio-arrivals.js';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The text of a turn whose job asked for a check (pocketsphinx's grammar check). */
export type SettleTurn = (check: GrammarCheck) => Promise<string>;

/**
 * A listening session whose engine runs as one long job in a worker pool (pocketsphinx, whisper):
 * audio frames go in, turn events come out. Resolves once the worker has loaded the engine;
 * a failure before that rejects, after that it is reported through `events.failed`. Turns are
 * reported in order: one waiting for `settle` holds back the turns after it.
 */
export async function openPoolListen(
  label: string,
  startJob: () => PoolJob<ListenJobInput, ListenJobEvent>,
  events: ListenEvents,
  logger: Logger,
  settle?: SettleTurn,
): Promise<ListenStream> {
  let job: PoolJob<ListenJobInput, ListenJobEvent>;
  try {
    job = startJob();
  } catch (err) {
    throw new ProviderError('listen', label, `cannot start listening: ${message(err)}`, { cause: err });
  }
  const stream = new PoolListenStream(label, job, events, logger, settle);
  await stream.started;
  return stream;
}

class PoolListenStream implements ListenStream {
  readonly started: Promise<void>;
  private closed = false;
  /** Settles once every turn so far has been reported. */
  private turns: Promise<void> = Promise.resolve();
  /** When the audio sent to the worker arrived: the worker tells where speech ended as a sample. */
  private readonly arrivals = new AudioArrivals();

  constructor(
    private readonly label: string,
    private readonly job: PoolJob<ListenJobInput, ListenJobEvent>,
    private readonly events: ListenEvents,
    private readonly logger: Logger,
    private readonly settle: SettleTurn | undefined,
  ) {
    this.started = new Promise((resolve, reject) => void this.pump(resolve, reject));
  }

  write(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    this.arrivals.wrote(samples.length);
    // A copy is moved to the worker: the caller may reuse its buffer.
    const copy = samples.slice();
    this.job.send(copy, [copy.buffer]);
  }

  forceEndTurn(): boolean {
    if (this.closed) return false;
    this.job.send({ t: 'forceEndTurn' });
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.job.cancel();
  }

  private reportTurn(text: string, check: GrammarCheck | undefined, speechEndedAt: number): void {
    const settle = this.settle;
    const heard =
      check === undefined || settle === undefined
        ? text
        : settle(check).catch((err: unknown) => {
            // Nothing stands behind the grammar's reading: reported as a turn with no words heard.
            if (!this.closed) this.logger.warn({ provider: this.label, err: message(err) }, 'the check of a turn failed');
            return '';
          });
    this.turns = this.turns.then(async () => {
      const settled = await heard;
      if (!this.closed) this.events.endOfTurn(settled, speechEndedAt);
    });
  }


  private async pump(resolve: () => void, reject: (err: unknown) => void): Promise<void> {
    let ready = false;
    try {
      for await (const event of this.job) {
        if (this.closed) return;
        switch (event.t) {
          case 'ready':
            ready = true;
            resolve();
            break;
          case 'speechStarted':
            this.events.speechStarted();
            break;
          case 'interim':
            this.events.interim(event.text);
            break;
          case 'endOfTurn':
            if (event.finalizeMs !== undefined) {
              this.logger.debug({ provider: this.label, audioMs: event.audioMs, finalizeMs: event.finalizeMs }, 'turn finalized');
            }
            this.reportTurn(event.text, event.check, this.arrivals.timeOf(event.speechEndSample));
            break;
        }
      }
      if (!this.closed) throw new Error('the listen job ended unexpectedly');
    } catch (err) {
      if (this.closed) return;
      this.closed = true;
      const error = new ProviderError('listen', this.label, `speech recognition failed: ${message(err)}`, { cause: err });
      if (ready) this.events.failed(error);
      else reject(error);
    }
  }
}
