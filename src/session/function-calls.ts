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

  /** Runs one LLM round's calls together; resolves with their records (in call order). */
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
    const responses = await Promise.all(
      resolved.map(({ call, definition }) =>
        definition.endpoint === undefined ? this.awaitClient(call, signal) : this.callEndpoint(call, definition.endpoint, signal),
      ),
    );
    return resolved.map(({ call, definition }, i) => ({
      id: call.id,
      name: call.name,
      clientSide: definition.endpoint === undefined,
      arguments: call.arguments,
      response: responses[i] ?? '',
      ...(call.thoughtSignature === undefined ? {} : { thoughtSignature: call.thoughtSignature }),
    }));
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
      const onAbort = (): void =>
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason }));
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

  private async callEndpoint(call: ToolCall, endpoint: FunctionEndpoint, signal: AbortSignal): Promise<string> {
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
      const body = await readTextUpTo(response, maxResultBytes);
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
