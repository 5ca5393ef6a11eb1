import { ProtocolError } from '../protocol/errors.js';
import type { WarningNotice } from '../protocol/errors.js';
import type { FunctionCallRecord, FunctionDefinition, FunctionEndpoint } from '../protocol/agent-config.js';
import type { ServerEvent } from '../protocol/server-events.js';
import type { ToolCall } from '../think/types.js';
import { quoteBody, readTextUpTo } from '../providers/bounded-body.js';
import type { OutboundGuard } from '../providers/outbound.js';
import { redact } from '../providers/errors.js';

export interface FunctionCallDeps {
  emit(event: ServerEvent): void;
  warn(notice: WarningNotice): void;
  /** Limit for one server-side HTTP call. */
  timeoutMs: number;
  /** Largest response body a server-side function may answer with. */
  maxResultBytes: number;
  /** The outbound guard's fetch: function endpoints are URLs the client chose. */
  fetch: OutboundGuard['fetch'];
  /** Aborted when the session ends: the only thing that stops a server-side call early. */
  sessionClosed: AbortSignal;
  /** Server-side calls that completed after their reply was interrupted, for history. */
  completedLate(records: FunctionCallRecord[]): void;
}

interface PendingCall {
  id: string;
  name: string;
  resolve(content: string): void;
}

export interface ClientFunctionResponse {
  id?: string;
  name?: string;
  content: string;
}

/**
 * Runs the LLM's tool calls: client-side ones are announced and awaited, server-side ones
 * (with an endpoint) are called over HTTP by Parley and reported (docs/protocol-decisions.md#server-side-functions).
 */
export class FunctionCalls {
  private readonly pending = new Map<string, PendingCall>();

  constructor(private readonly deps: FunctionCallDeps) {}

  /**
   * Runs one LLM round's calls together; resolves with their records (in call order). Aborting
   * `signal` (barge-in) cancels the client-side calls, but server-side ones run to completion:
   * the endpoint may act on the request, so its result is kept and handed to `completedLate`
   * (docs/protocol-decisions.md#server-side-functions).
   */
  async run(calls: readonly ToolCall[], functions: readonly FunctionDefinition[], signal: AbortSignal): Promise<FunctionCallRecord[]> {
    const byName = new Map(functions.map((f) => [f.name, f]));
    const resolved = calls.map((call) => {
      const definition = byName.get(call.name);
      if (definition === undefined) {
        throw new ProtocolError('NON_EXISTENT_FUNCTION_CALLED', `The agent called function "${call.name}", which the settings do not define`);
      }
      return { call, definition };
    });
    this.deps.emit({
      type: 'FunctionCallRequest',
      functions: resolved.map(({ call, definition }) => ({
        id: call.id,
        name: call.name,
        arguments: call.arguments,
        clientSide: definition.endpoint === undefined,
        ...(call.thoughtSignature === undefined ? {} : { thoughtSignature: call.thoughtSignature }),
      })),
    });
    const record = (call: ToolCall, clientSide: boolean, response: string): FunctionCallRecord => ({
      id: call.id,
      name: call.name,
      clientSide,
      arguments: call.arguments,
      response,
      ...(call.thoughtSignature === undefined ? {} : { thoughtSignature: call.thoughtSignature }),
    });
    const serverSide: Promise<FunctionCallRecord>[] = [];
    const records = resolved.map(({ call, definition }) => {
      if (definition.endpoint === undefined) return this.awaitClient(call, signal).then((response) => record(call, true, response));
      const done = this.callEndpoint(call, definition.endpoint).then((response) => record(call, false, response));
      serverSide.push(done);
      return done;
    });
    try {
      return await untilAborted(Promise.all(records), signal);
    } catch (err) {
      if (serverSide.length > 0 && signal.aborted) {
        void Promise.all(serverSide).then((late) => {
          if (!this.deps.sessionClosed.aborted) this.deps.completedLate(late);
        });
      }
      throw err;
    }
  }

  /** A client's FunctionCallResponse; false when no call is waiting for it (late or unknown). */
  respond(response: ClientFunctionResponse): boolean {
    const call =
      (response.id !== undefined ? this.pending.get(response.id) : undefined) ??
      (response.id === undefined ? [...this.pending.values()].find((p) => p.name === response.name) : undefined);
    if (call === undefined) return false;
    this.pending.delete(call.id);
    call.resolve(response.content);
    return true;
  }

  /** Abandons announced client-side calls (barge-in) and tells the client not to answer them. */
  cancelPending(): void {
    if (this.pending.size === 0) return;
    const functions = [...this.pending.values()].map(({ id, name }) => ({ id, name }));
    this.pending.clear();
    this.deps.emit({ type: 'FunctionCallCancelled', functions });
  }

  private awaitClient(call: ToolCall, signal: AbortSignal): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const onAbort = (): void => reject(abortReason(signal));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(call.id, {
        id: call.id,
        name: call.name,
        resolve: (content) => {
          signal.removeEventListener('abort', onAbort);
          resolve(content);
        },
      });
    });
  }

  private async callEndpoint(call: ToolCall, endpoint: FunctionEndpoint): Promise<string> {
    const signal = this.deps.sessionClosed;
    const hasBody = endpoint.method !== 'GET' && endpoint.method !== 'HEAD';
    const { maxResultBytes, timeoutMs } = this.deps;
    let content: string;
    try {
      const response = await this.deps.fetch(endpoint.url, {
        method: endpoint.method,
        headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...endpoint.headers },
        ...(hasBody ? { body: call.arguments === '' ? '{}' : call.arguments } : {}),
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
      const body = await readTextUpTo(response.body as AsyncIterable<Uint8Array> | null, maxResultBytes);
      if (!response.ok) {
        // The endpoint's own words help the developer; the headers the client sent stay out of them.
        const quoted = redact(quoteBody(body.text), Object.values(endpoint.headers));
        throw new Error(`HTTP ${response.status}${quoted === '' ? '' : `: ${quoted}`}`);
      }
      if (!body.complete) throw new Error(`the response is larger than ${maxResultBytes} bytes (PARLEY_MAX_FUNCTION_RESULT_BYTES)`);
      content = body.text;
    } catch (err) {
      if (signal.aborted) throw err;
      const reason = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
      this.deps.warn({ code: 'FUNCTION_CALL_FAILED', description: `Function "${call.name}" failed: ${reason}` });
      content = JSON.stringify({ error: `The function call failed: ${reason}` });
    }
    this.deps.emit({ type: 'FunctionCallResponse', id: call.id, name: call.name, content });
    return content;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason });
}

/** `promise`, or a rejection as soon as `signal` aborts (the promise itself runs on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
