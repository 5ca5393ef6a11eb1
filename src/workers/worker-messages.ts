/** Messages between the pool (main thread) and its workers. */
export type ToWorker =
  | { t: 'start'; id: number; kind: string; payload: unknown }
  | { t: 'input'; id: number; data: unknown }
  | { t: 'end'; id: number }
  | { t: 'cancel'; id: number };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export type FromWorker =
  | { t: 'ready' }
  | { t: 'fatal'; error: SerializedError }
  | { t: 'result'; id: number; data: unknown }
  | { t: 'done'; id: number }
  | { t: 'error'; id: number; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    return err.stack === undefined
      ? { name: err.name, message: err.message }
      : { name: err.name, message: err.message, stack: err.stack };
  }
  return { name: 'Error', message: String(err) };
}
