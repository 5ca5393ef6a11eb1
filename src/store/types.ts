/**
 * What Parley keeps durably: projects, their API keys (hashed), the sessions in flight that count
 * against a project's concurrency limit, usage per session, and stored agent configurations.
 * One interface, two implementations: SQLite (one machine) and PostgreSQL (many processes).
 * Times are milliseconds since the epoch; durations are milliseconds.
 */

export interface Project {
  id: string;
  name: string;
  /** Most agent sessions open at once across every process; undefined: no limit. */
  concurrencyLimit?: number;
  createdAt: number;
}

export interface ApiKey {
  id: string;
  projectId: string;
  comment: string;
  createdAt: number;
  expiresAt?: number;
  revokedAt?: number;
}

/** A session in flight holding one of its project's slots until released or its lease runs out. */
export interface SlotRequest {
  sessionId: string;
  projectId: string;
  /** The process holding it; its heartbeat renews every slot it holds. */
  holder: string;
  limit: number;
  leaseMs: number;
}

/** Whose LLM served the session (the two price tiers): the server's own, or one the client brought. */
export type ThinkTier = 'operator' | 'client';

/** What a session uses; a usage record holds one session's, usage figures the sum over sessions. */
export interface UsageMeasures {
  /** The billing unit: how long the WebSocket was open. */
  connectionMs: number;
  audioInMs: number;
  audioOutMs: number;
  turns: number;
  llmInputTokens: number;
  llmOutputTokens: number;
}

export interface UsageRecord extends UsageMeasures {
  sessionId: string;
  projectId?: string;
  keyId?: string;
  thinkTier: ThinkTier;
  startedAt: number;
  endedAt: number;
}

export interface UsageQuery {
  projectId?: string;
  /** Sessions that started at or after this. */
  start?: number;
  /** Sessions that started before this. */
  end?: number;
}

export interface UsageFigures extends UsageMeasures {
  sessions: number;
}

export interface UsageTotals extends UsageFigures {
  byThinkTier: Record<ThinkTier, UsageFigures>;
}

export interface StoredAgent {
  id: string;
  projectId: string;
  /** The `agent` block of a V1 Settings message. */
  config: Record<string, unknown>;
  metadata: Record<string, string>;
  createdAt: number;
}

export interface Store {
  /** `sqlite` or `postgres`, for logs and /healthz. */
  readonly kind: 'sqlite' | 'postgres';

  createProject(input: { name: string; concurrencyLimit?: number }): Promise<Project>;
  listProjects(): Promise<Project[]>;
  getProject(id: string): Promise<Project | undefined>;
  /** undefined removes the limit. */
  setConcurrencyLimit(projectId: string, limit: number | undefined): Promise<void>;

  /** Stores only the hash of `secret`; the caller shows the secret once. */
  createKey(input: { projectId: string; secretHash: string; comment?: string; expiresAt?: number }): Promise<ApiKey>;
  listKeys(projectId?: string): Promise<ApiKey[]>;
  getKey(id: string): Promise<ApiKey | undefined>;
  /** The key with this hash, revoked or expired ones included (the caller decides). */
  findKeyByHash(secretHash: string): Promise<ApiKey | undefined>;
  /** False when no such key was active. */
  revokeKey(id: string, at?: number): Promise<boolean>;
  /** Whether any key is neither revoked nor expired: then every client must offer a credential. */
  hasActiveKeys(now?: number): Promise<boolean>;

  /**
   * Takes one of the project's `limit` slots, atomically across every process sharing the store;
   * slots whose lease ran out (a crashed process) are freed first. False when all are taken.
   */
  acquireSlot(request: SlotRequest, now?: number): Promise<boolean>;
  /** The holder's heartbeat: every slot it holds lives `leaseMs` longer. */
  renewSlots(holder: string, leaseMs: number, now?: number): Promise<void>;
  releaseSlot(sessionId: string): Promise<void>;
  releaseHolder(holder: string): Promise<void>;
  /** Slots held now (leases not run out). */
  openSlots(projectId: string, now?: number): Promise<number>;

  recordUsage(record: UsageRecord): Promise<void>;
  usage(query: UsageQuery): Promise<UsageTotals>;

  createAgent(input: { projectId: string; config: Record<string, unknown>; metadata?: Record<string, string> }): Promise<StoredAgent>;
  listAgents(projectId: string): Promise<StoredAgent[]>;
  getAgent(id: string): Promise<StoredAgent | undefined>;
  deleteAgent(projectId: string, id: string): Promise<boolean>;

  /** A named value shared by every process, set once: the first writer wins, later ones read it. */
  sharedSecret(name: string, create: () => string): Promise<string>;

  close(): Promise<void>;
}

/** Empty usage figures, the start of every sum. */
export function noUsage(): UsageFigures {
  return { sessions: 0, connectionMs: 0, audioInMs: 0, audioOutMs: 0, turns: 0, llmInputTokens: 0, llmOutputTokens: 0 };
}
