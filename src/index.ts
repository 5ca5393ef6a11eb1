// Parley as a library: start a complete server, or assemble one from its parts.
export { startParley } from './server/start-parley.js';
export type { Parley } from './server/start-parley.js';
export { defaultProviders } from './runtime/default-providers.js';
export { sessionAudioFactory } from './runtime/session-audio.js';
export { startServer } from './server/index.js';
export type { RunningServer, ServerOptions } from './server/index.js';
export { loadServerConfig } from './server/config.js';
export type { ServerConfig } from './server/config.js';
export { emptyProviders } from './session/provider-registry.js';
export type { Providers } from './session/provider-registry.js';
export { ProviderError } from './core/errors.js';
export { ProtocolError } from './protocol/errors.js';
export type { ProviderContext } from './core/provider-context.js';
export type { ListenFactory, ListenProvider, ListenStream, ListenEvents } from './listen/types.js';
export type { ThinkFactory, ThinkProvider, ThinkEvent, ThinkRequest, ChatMessage, ToolCall } from './think/types.js';
export type { SpeakFactory, SpeakProvider, PcmChunk } from './speak/types.js';
export type { AgentConfig } from './protocol/agent-config.js';
