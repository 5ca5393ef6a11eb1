// Where a pool worker runs: a worker thread (cheap, shares the process) or a child process (a
// native crash or abort inside it cannot take the server down). Both speak the same messages.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './worker-messages.js';

export type Isolation = 'thread' | 'process';

/** Where worker-entry finds its modules when it runs in a child process. */
export const WORKER_DATA_ENV = 'PARLEY_WORKER_DATA';

export interface WorkerHost {
  post(message: ToWorker, transfer?: readonly TransferListItem[]): void;
  onMessage(listener: (message: FromWorker) => void): void;
  onError(listener: (error: Error) => void): void;
  onExit(listener: (code: number) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<void>;
}

export interface WorkerData {
  modules: string[];
}

/** Extra environment of a worker process (ignored for threads, which share the process's). */
export type WorkerEnv = Readonly<Record<string, string>>;

/** Under tsx (tests, `npm run bench`), workers must register tsx's loader before importing `.ts`. */
function tsxBootstrap(entry: URL): string {
  const tsx = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
}

function threadHost(entry: URL, workerData: WorkerData): WorkerHost {
  const thread = entry.pathname.endsWith('.ts') ? new Worker(tsxBootstrap(entry), { eval: true, workerData }) : new Worker(entry, { workerData });
  return {
    post: (message, transfer) => thread.postMessage(message, transfer as TransferListItem[] | undefined),
    onMessage: (listener) => thread.on('message', listener),
    onError: (listener) => thread.on('error', listener),
    onExit: (listener) => thread.on('exit', listener),
    ref: () => thread.ref(),
    unref: () => thread.unref(),
    terminate: async () => {
      await thread.terminate();
    },
  };
}

function processHost(entry: URL, workerData: WorkerData, extraEnv: WorkerEnv): WorkerHost {
  const child: ChildProcess = fork(fileURLToPath(entry), [], {
    // Structured clone over IPC, so typed arrays arrive as typed arrays (copied, not moved).
    serialization: 'advanced',
    execArgv: entry.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [],
    env: { ...process.env, ...extraEnv, [WORKER_DATA_ENV]: JSON.stringify(workerData) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    post: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', (message) => listener(message as FromWorker)),
    onError: (listener) => child.on('error', listener),
    onExit: (listener) => child.on('exit', (code, signal) => listener(code ?? (signal === null ? 1 : 128))),
    ref: () => {
      child.ref();
      child.channel?.ref();
    },
    unref: () => {
      child.unref();
      child.channel?.unref();
    },
    terminate: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // Held until it is gone: an unref'd child would let the event loop end first.
        child.ref();
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

export function startWorkerHost(isolation: Isolation, entry: URL, workerData: WorkerData, env: WorkerEnv = {}): WorkerHost {
  return isolation === 'process' ? processHost(entry, workerData, env) : threadHost(entry, workerData);
}
