import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../core/logger.js';
import type { Providers } from '../session/provider-registry.js';
import type { Dialect } from '../protocol/agent-config.js';
import type { ServerConfig } from './config.js';
import { Connection } from './connection.js';
import type { SessionAudioFactory } from '../session/session.js';
import { ServerMetrics } from './metrics.js';
import { serveStatic } from './static-files.js';
import { serveDiscovery } from './discovery.js';
import type { OfferedModels } from '../runtime/offered-models.js';
import { Recordings, asksForRecording } from '../recording/recorder.js';
import { AgentDirectory } from '../telephony/agents.js';
import { PhoneCall } from '../telephony/phone-call.js';
import { phoneCredential, phoneDialectForPath } from './phone-paths.js';
import { trimTrailingSlashes } from '../core/url-path.js';
import type { Store } from '../store/index.js';
import { Platform } from './platform.js';

export interface ServerOptions {
  config: ServerConfig;
  providers: Providers;
  createAudio: SessionAudioFactory;
  logger: Logger;
  /** Server-side secrets and engine settings for providers. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Extra facts for /healthz, e.g. which engine tier is active. */
  health?: () => Record<string, unknown>;
  /** Resolves once the engines are loaded; /healthz answers 503 "starting" until then. */
  ready?: Promise<unknown>;
  /** What the settings discovery endpoints list; they answer 404 without it. */
  models?: OfferedModels;
  /** Projects, keys, limits, usage, stored agents (src/store); without it, only PARLEY_API_KEYS. */
  store?: Store;
}

export interface RunningServer {
  /** Base WebSocket URL, e.g. ws://127.0.0.1:8080 */
  url: string;
  port: number;
  metrics: ServerMetrics;
  sessionCount(): number;
  /** Stop accepting sessions (/healthz 503), wait up to the drain timeout, then end the rest. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** The dialect a path speaks; SDK 5.x keeps a path prefix of its base URL, so match the end. */
export function dialectForPath(pathname: string): Dialect | undefined {
  const path = trimTrailingSlashes(pathname);
  if (path.endsWith('/v1/agent/converse')) return 'v1';
  if (path.endsWith('/agent')) return 'ea';
  return undefined;
}

function refuse(socket: Duplex, status: number, reason: string, body?: Record<string, unknown>): void {
  const text = body === undefined ? reason : JSON.stringify(body);
  const type = body === undefined ? 'text/plain' : 'application/json';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

/** Starts Parley's HTTP + WebSocket listener. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config, logger } = options;
  const metrics = new ServerMetrics();
  const connections = new Set<Connection | PhoneCall>();
  // Phone calls' agents (docs/telephony.md) and every session's recordings (docs/recordings.md).
  const agents = config.agentsFile === undefined ? AgentDirectory.embedded() : await AgentDirectory.open(config.agentsFile, logger);
  const recordings = config.recordDir === undefined ? undefined : new Recordings(config.recordDir, config.record, logger);
  let draining = false;
  let closing = false;
  let state: 'starting' | 'ok' | 'failed' = options.ready === undefined ? 'ok' : 'starting';
  options.ready?.then(
    () => {
      state = 'ok';
    },
    (err: unknown) => {
      state = 'failed';
      // A shutdown during the warm-up closes the engines under it: expected, not a failure.
      if (closing) logger.info('engine warm-up ended by the shutdown');
      else logger.error({ err }, 'engines failed to load');
    },
  );

  const platform = new Platform(config, options.store, logger);
  await platform.announce();
  /** Agent upgrades being admitted (their checks wait on the store): they count against PARLEY_MAX_SESSIONS. */
  let admitting = 0;

  const wss = new WebSocketServer({
    noServer: true,
    // Twice the larger limit: frames between a limit and this are refused with a readable Error;
    // only absurd frames meet ws's own 1009 close.
    maxPayload: 2 * Math.max(config.maxTextFrameBytes, config.maxBinaryFrameBytes),
    // The connection checks UTF-8 itself, to answer a bad text frame with a coded Error (docs/protocol-decisions.md#message-limits).
    skipUTF8Validation: true,
    // Browsers fail the handshake unless one offered subprotocol is echoed (docs/protocol-decisions.md#credentials-and-refusals-at-the-upgrade).
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
  });

  const http: Server = createServer((request, response) => {
    void handleHttp(request, response).catch((err: unknown) => {
      logger.error({ err }, 'http handler failed');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });

  async function handleHttp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { pathname } = new URL(request.url ?? '/', 'http://localhost');
    if (pathname === '/healthz') {
      const status = draining ? 'draining' : state;
      response.writeHead(status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status, sessions: connections.size, ...options.health?.() }));
      return;
    }
    if (pathname === '/metrics') {
      response.writeHead(200, { 'content-type': metrics.registry.contentType });
      response.end(await metrics.registry.metrics());
      return;
    }
    if (await platform.serveHttp(request, response)) return;
    if (options.models !== undefined && (await serveDiscovery(options.models, (credential) => platform.authorizes(credential), request, response))) return;
    if (config.webDir !== undefined && (await serveStatic(config.webDir, request, response))) return;
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('Not found');
  }

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const dialect = dialectForPath(url.pathname);
    const deny = (status: number, reason: string, body?: Record<string, unknown>): void => {
      metrics.refused.inc({ status: String(status) });
      logger.info({ status, path: url.pathname }, `upgrade refused: ${reason}`);
      refuse(socket, status, reason, body);
    };
    const carrier = phoneDialectForPath(url.pathname);
    if (carrier !== undefined) {
      const full = (): boolean => draining || connections.size + admitting >= config.maxSessions;
      if (full()) return deny(503, 'Service Unavailable');
      admitting++;
      void (async () => {
        // The key, the project's limit and usage wait for the start message (docs/telephony.md#limits-and-usage).
        const admit = await platform.phoneUpgrade(phoneCredential(request, url)).finally(() => admitting--);
        if (admit === undefined) return deny(401, 'Unauthorized');
        if (full()) return deny(503, 'Service Unavailable');
        if (socket.destroyed) return;
        wss.handleUpgrade(request, socket, head, (ws) => {
          const call = new PhoneCall(
            ws,
            {
              ...config,
              dialect: carrier,
              agents,
              providers: options.providers,
              createAudio: options.createAudio,
              logger,
              env: options.env ?? process.env,
              admit,
              onRefused: (status) => metrics.refused.inc({ status: String(status) }),
              recordings,
              recordRequested: asksForRecording(url.searchParams.get('record')),
              path: url.pathname,
              onTurn: (latency) => metrics.observeTurn(latency),
            },
            (closed) => {
              connections.delete(closed);
              metrics.sessionsOpen.set(connections.size);
            },
          );
          connections.add(call);
          metrics.sessionsTotal.inc();
          metrics.sessionsOpen.set(connections.size);
          logger.info({ session: call.id, carrier: carrier.name }, 'phone stream opened');
        });
      })().catch((err: unknown) => {
        logger.error({ err }, 'could not admit a phone stream');
        deny(503, 'Service Unavailable');
      });
      return;
    }
    if (dialect === undefined) return deny(404, 'Not Found');
    admitting++;
    // The checks ask the store; the socket may close meanwhile, and its slot goes back with it.
    void (async () => {
      const admitted = await platform.admit(request, url, () => draining || connections.size + admitting > config.maxSessions).finally(() => admitting--);
      if (!admitted.ok) return deny(admitted.status, admitted.reason, admitted.body);
      if (socket.destroyed) return admitted.release();
      socket.once('close', () => admitted.release());
      wss.handleUpgrade(request, socket, head, (ws) => {
        const connection = new Connection(
          ws,
          dialect,
          {
            config,
            providers: options.providers,
            metrics,
            logger,
            env: options.env ?? process.env,
            createAudio: options.createAudio,
            ...admitted.deps,
            ...(recordings === undefined ? {} : { recording: { recordings, requested: asksForRecording(url.searchParams.get('record')), path: url.pathname } }),
            interimTranscripts: url.searchParams.get('interim_transcripts') === 'true',
          },
          (closed) => {
            connections.delete(closed);
            metrics.sessionsOpen.set(connections.size);
            admitted.ended(closed.id);
          },
        );
        connections.add(connection);
        metrics.sessionsTotal.inc();
        metrics.sessionsOpen.set(connections.size);
        logger.info({ session: connection.id, dialect }, 'session opened');
      });
    })().catch((err: unknown) => {
      logger.error({ err }, 'could not admit a session');
      deny(503, 'Service Unavailable');
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info({ host: config.host, port }, 'Parley listening');

  async function close(): Promise<void> {
    closing = true;
    for (const connection of [...connections]) connection.goAway();
    wss.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await platform.close();
    agents.close();
    await recordings?.close();
  }

  return {
    url: `ws://${host}:${port}`,
    port,
    metrics,
    sessionCount: () => connections.size,
    async drain() {
      draining = true;
      const deadline = Date.now() + config.drainTimeoutMs;
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await close();
    },
    close,
  };
}
