/**
 * parley/client: a Voice Agent API client for Node and browsers, shaped like the Deepgram JS SDK's
 * agent client so that code ports by changing the import.
 */
import { AgentClient } from './agent-client.js';
import type { AgentClientOptions } from './agent-client.js';

export { AgentClient, resolveAgentUrl, V1_AGENT_PATH } from './agent-client.js';
export type { AgentClientOptions, ReconnectPolicy } from './agent-client.js';
export { AgentEvents } from './messages.js';
export type * from './messages.js';
export type * from './events.js';
export type { AuthMode, SocketConstructor, SocketLike } from './transport.js';
export { encodeWav, UtteranceRecorder } from './wav.js';
export type { PcmFormat, Utterance } from './wav.js';
export { runScript } from './scripted-user.js';
export type { ScriptedInput, ScriptOptions, ScriptResult, StreamProgress, TurnOutcome } from './scripted-user.js';
export { PlaybackQueue } from './playback.js';
export type { AudioContextLike, PlaybackOptions } from './playback.js';

/** Options of `createClient`: Parley's flat form, or the Deepgram SDK 3.x/4.x namespaced one. */
export type CreateClientOptions = Omit<AgentClientOptions, 'url' | 'key'> & {
  url?: string;
  agent?: { websocket?: { options?: { url?: string } } };
};

/**
 * SDK-style entry: `createClient(key, { url }).agent()` returns a connecting AgentClient.
 * `agent(path)` overrides the path, as `deepgram.agent("/agent")` does.
 */
export function createClient(key: string, options: CreateClientOptions): { agent(path?: string): AgentClient } {
  const url = options.url ?? options.agent?.websocket?.options?.url;
  if (!url) throw new Error('createClient needs options.url (or agent.websocket.options.url)');
  const { agent: _namespaced, ...rest } = options;
  return {
    agent(path?: string): AgentClient {
      const target = path ? new URL(path, url).toString() : url;
      return new AgentClient({ ...rest, url: target, key });
    },
  };
}
