// Worker module (loaded by the engine pool): owns the process's one llama.cpp model and the
// per-session sequences of its shared context. Inference runs here, never on the event loop.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { getLlama, LlamaChat, LlamaLogLevel, resolveChatWrapper } from 'node-llama-cpp';
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { registerJobHandler } from '../../workers/worker-runtime.js';
import { toLlamaFunctions, toLlamaHistory } from './llama-history.js';
import { LLAMA_JOBS } from './llama-protocol.js';
import type { GeneratePayload, LlamaEvent, LlamaModelSpec, LoadPayload, LoadResult, ReleasePayload } from './llama-protocol.js';

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
  wrapper: ChatWrapper;
  result: LoadResult;
}

interface SessionState {
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  /** The context window of the last turn, so the next turn reuses the KV cache. */
  lastWindow: ChatHistoryItem[] | undefined;
}

let llama: Promise<Llama> | undefined;
const loaded = new Map<string, Promise<Loaded>>();
const sessions = new Map<string, SessionState>();

async function load(spec: LlamaModelSpec): Promise<Loaded> {
  let pending = loaded.get(spec.modelPath);
  if (pending === undefined) {
    pending = (async () => {
      const started = performance.now();
      // Prebuilt binaries only: a missing binary must fail fast, not start a compile or download.
      llama ??= getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error });
      const runtime = await llama;
      const model = await runtime.loadModel({ modelPath: spec.modelPath });
      const context = await model.createContext({
        contextSize: Math.min(spec.contextSize, model.trainContextSize),
        sequences: spec.maxSessions,
        ...(spec.threads > 0 ? { threads: spec.threads } : {}),
      });
      const wrapper = resolveChatWrapper(model);
      const result: LoadResult = {
        chatWrapper: wrapper.wrapperName,
        loadMs: performance.now() - started,
        trainContextSize: model.trainContextSize,
      };
      return { model, context, wrapper, result };
    })();
    pending.catch(() => loaded.delete(spec.modelPath));
    loaded.set(spec.modelPath, pending);
  }
  return pending;
}

function sessionFor(id: string, model: Loaded, maxSessions: number): SessionState {
  let session = sessions.get(id);
  if (session === undefined) {
    if (model.context.sequencesLeft === 0) {
      throw new Error(`all ${maxSessions} LLM session slots are in use; raise PARLEY_LLM_MAX_SESSIONS or end a session`);
    }
    const sequence = model.context.getSequence();
    session = { sequence, chat: new LlamaChat({ contextSequence: sequence, chatWrapper: model.wrapper }), lastWindow: undefined };
    sessions.set(id, session);
  }
  return session;
}

registerJobHandler<LoadPayload, never, LoadResult>(LLAMA_JOBS.load, async ({ model }, job) => {
  job.emit((await load(model)).result);
});

registerJobHandler<GeneratePayload, never, LlamaEvent>(LLAMA_JOBS.generate, async (payload, job) => {
  const model = await load(payload.model);
  if (job.signal.aborted) return;
  const session = sessionFor(payload.sessionId, model, payload.model.maxSessions);
  const functions = toLlamaFunctions(payload.tools);
  const before = session.sequence.tokenMeter.getState();
  const { temperature, maxTokens, seed } = payload.sampling;
  const result = await session.chat.generateResponse(toLlamaHistory(payload.messages), {
    signal: job.signal,
    // An abort keeps what was generated, so the next turn still reuses the KV cache.
    stopOnAbortSignal: true,
    ...(temperature === undefined ? {} : { temperature }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(seed === undefined ? {} : { seed }),
    ...(functions === undefined ? {} : { functions, documentFunctionParams: true }),
    ...(session.lastWindow === undefined ? {} : { lastEvaluationContextWindow: { history: session.lastWindow } }),
    onResponseChunk: (chunk) => {
      if (chunk.text === '') return;
      if (chunk.type === undefined) job.emit({ type: 'text', text: chunk.text });
      else if (chunk.segmentType === 'thought') job.emit({ type: 'thinking', text: chunk.text });
    },
  });
  session.lastWindow = result.lastEvaluation.contextWindow;
  if (job.signal.aborted) return;
  for (const call of result.functionCalls ?? []) {
    job.emit({
      type: 'tool_call',
      call: { id: `call_${randomUUID()}`, name: call.functionName, arguments: JSON.stringify(call.params ?? {}) },
    });
  }
  const used = session.sequence.tokenMeter.diff(before);
  job.emit({
    type: 'usage',
    evaluatedInputTokens: used.usedInputTokens,
    outputTokens: used.usedOutputTokens,
    stopReason: result.metadata.stopReason,
  });
});

registerJobHandler<ReleasePayload, never, never>(LLAMA_JOBS.release, ({ sessionId }) => {
  const session = sessions.get(sessionId);
  if (session === undefined) return;
  sessions.delete(sessionId);
  session.chat.dispose({ disposeSequence: true });
});

// Native finalizers must not run while the thread is being torn down: free everything first.
registerJobHandler(LLAMA_JOBS.unload, async () => {
  for (const session of sessions.values()) session.chat.dispose({ disposeSequence: true });
  sessions.clear();
  const models = await Promise.allSettled(loaded.values());
  loaded.clear();
  for (const m of models) {
    if (m.status !== 'fulfilled') continue;
    await m.value.context.dispose();
    await m.value.model.dispose();
  }
  const runtime = llama;
  llama = undefined;
  await (await runtime)?.dispose();
});
