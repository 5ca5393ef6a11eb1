import { randomUUID } from 'node:crypto';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
import { noUsage } from './types.js';
import type { ApiKey, Project, SlotRequest, Store, StoredAgent, ThinkTier, UsageFigures, UsageQuery, UsageRecord, UsageTotals } from './types.js';

export type Row = Record<string, unknown>;
export type Param = string | number | null;

/**
 * The little a database must do for the store: statements with `?` placeholders, and
 * transactions that run one at a time against everything else that writes (SQLite's
 * `BEGIN IMMEDIATE`; PostgreSQL row locks taken with `forUpdate`).
 */
export interface Db {
  readonly kind: 'sqlite' | 'postgres';
  /** Appended to a SELECT inside a transaction to lock the rows it reads ('' where the transaction already holds the database). */
  readonly forUpdate: string;
  /** Statements that make concurrent migrations of several processes wait for each other. */
  readonly migrationLock: readonly string[];
  all(sql: string, params?: readonly Param[]): Promise<Row[]>;
  /** The number of rows changed. */
  run(sql: string, params?: readonly Param[]): Promise<number>;
  transaction<T>(work: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const num = (value: unknown): number => Number(value ?? 0);
const optionalNum = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : Number(value));

function project(row: Row): Project {
  const limit = optionalNum(row['concurrency_limit']);
  return { id: String(row['id']), name: String(row['name']), createdAt: num(row['created_at']), ...(limit === undefined ? {} : { concurrencyLimit: limit }) };
}

function apiKey(row: Row): ApiKey {
  const expiresAt = optionalNum(row['expires_at']);
  const revokedAt = optionalNum(row['revoked_at']);
  return {
    id: String(row['id']),
    projectId: String(row['project_id']),
    comment: String(row['comment']),
    createdAt: num(row['created_at']),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(revokedAt === undefined ? {} : { revokedAt }),
  };
}

function agent(row: Row): StoredAgent {
  return {
    id: String(row['id']),
    projectId: String(row['project_id']),
    config: JSON.parse(String(row['config'])) as Record<string, unknown>,
    metadata: JSON.parse(String(row['metadata'])) as Record<string, string>,
    createdAt: num(row['created_at']),
  };
}

function figures(row: Row | undefined): UsageFigures {
  if (row === undefined) return noUsage();
  return {
    sessions: num(row['sessions']),
    connectionMs: num(row['connection_ms']),
    audioInMs: num(row['audio_in_ms']),
    audioOutMs: num(row['audio_out_ms']),
    turns: num(row['turns']),
    llmInputTokens: num(row['llm_input_tokens']),
    llmOutputTokens: num(row['llm_output_tokens']),
  };
}

const KEY_COLUMNS = 'id, project_id, comment, created_at, expires_at, revoked_at';

/** The store on any `Db`: the SQL is shared, so both databases behave the same. */
export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';

  constructor(private readonly db: Db) {
    this.kind = db.kind;
  }

  /** Applies the migrations not yet applied; several processes starting at once apply each once. */
  async migrate(): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const statement of tx.migrationLock) await tx.all(statement);
      await tx.run(MIGRATIONS_TABLE);
      const done = new Set((await tx.all('SELECT version FROM schema_migrations')).map((row) => num(row['version'])));
      for (const migration of MIGRATIONS) {
        if (done.has(migration.version)) continue;
        for (const statement of migration.statements) await tx.run(statement);
        await tx.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', [migration.version, Date.now()]);
      }
    });
  }

  async createProject(input: { name: string; concurrencyLimit?: number }): Promise<Project> {
    const created: Project = { id: randomUUID(), name: input.name, createdAt: Date.now(), ...(input.concurrencyLimit === undefined ? {} : { concurrencyLimit: input.concurrencyLimit }) };
    await this.db.run('INSERT INTO projects (id, name, concurrency_limit, created_at) VALUES (?, ?, ?, ?)', [created.id, created.name, input.concurrencyLimit ?? null, created.createdAt]);
    return created;
  }

  async listProjects(): Promise<Project[]> {
    return (await this.db.all('SELECT * FROM projects ORDER BY created_at, id')).map(project);
  }

  async getProject(id: string): Promise<Project | undefined> {
    const [row] = await this.db.all('SELECT * FROM projects WHERE id = ?', [id]);
    return row === undefined ? undefined : project(row);
  }

  async setConcurrencyLimit(projectId: string, limit: number | undefined): Promise<void> {
    await this.db.run('UPDATE projects SET concurrency_limit = ? WHERE id = ?', [limit ?? null, projectId]);
  }

  async createKey(input: { projectId: string; secretHash: string; comment?: string; expiresAt?: number }): Promise<ApiKey> {
    const key: ApiKey = { id: randomUUID(), projectId: input.projectId, comment: input.comment ?? '', createdAt: Date.now(), ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }) };
    await this.db.run('INSERT INTO api_keys (id, project_id, secret_hash, comment, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)', [
      key.id,
      key.projectId,
      input.secretHash,
      key.comment,
      key.createdAt,
      input.expiresAt ?? null,
    ]);
    return key;
  }

  async listKeys(projectId?: string): Promise<ApiKey[]> {
    const rows =
      projectId === undefined
        ? await this.db.all(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`)
        : await this.db.all(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE project_id = ? ORDER BY created_at, id`, [projectId]);
    return rows.map(apiKey);
  }

  async getKey(id: string): Promise<ApiKey | undefined> {
    const [row] = await this.db.all(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`, [id]);
    return row === undefined ? undefined : apiKey(row);
  }

  async findKeyByHash(secretHash: string): Promise<ApiKey | undefined> {
    const [row] = await this.db.all(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE secret_hash = ?`, [secretHash]);
    return row === undefined ? undefined : apiKey(row);
  }

  async revokeKey(id: string, at = Date.now()): Promise<boolean> {
    return (await this.db.run('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id])) > 0;
  }

  async hasActiveKeys(now = Date.now()): Promise<boolean> {
    const rows = await this.db.all('SELECT id FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) LIMIT 1', [now]);
    return rows.length > 0;
  }

  acquireSlot(request: SlotRequest, now = Date.now()): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // The project's row is the lock: two processes taking its last slot at once wait in turn.
      await tx.all(`SELECT id FROM projects WHERE id = ?${tx.forUpdate}`, [request.projectId]);
      await tx.run('DELETE FROM session_slots WHERE project_id = ? AND expires_at <= ?', [request.projectId, now]);
      const [row] = await tx.all('SELECT COUNT(*) AS n FROM session_slots WHERE project_id = ?', [request.projectId]);
      if (num(row?.['n']) >= request.limit) return false;
      await tx.run('INSERT INTO session_slots (session_id, project_id, holder, expires_at) VALUES (?, ?, ?, ?)', [request.sessionId, request.projectId, request.holder, now + request.leaseMs]);
      return true;
    });
  }

  async renewSlots(holder: string, leaseMs: number, now = Date.now()): Promise<void> {
    await this.db.run('UPDATE session_slots SET expires_at = ? WHERE holder = ?', [now + leaseMs, holder]);
  }

  async releaseSlot(sessionId: string): Promise<void> {
    await this.db.run('DELETE FROM session_slots WHERE session_id = ?', [sessionId]);
  }

  async releaseHolder(holder: string): Promise<void> {
    await this.db.run('DELETE FROM session_slots WHERE holder = ?', [holder]);
  }

  async openSlots(projectId: string, now = Date.now()): Promise<number> {
    const [row] = await this.db.all('SELECT COUNT(*) AS n FROM session_slots WHERE project_id = ? AND expires_at > ?', [projectId, now]);
    return num(row?.['n']);
  }

  async recordUsage(record: UsageRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO usage_records (session_id, project_id, key_id, think_tier, started_at, ended_at, connection_ms, audio_in_ms, audio_out_ms, turns, llm_input_tokens, llm_output_tokens)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        record.sessionId,
        record.projectId ?? null,
        record.keyId ?? null,
        record.thinkTier,
        record.startedAt,
        record.endedAt,
        Math.round(record.connectionMs),
        Math.round(record.audioInMs),
        Math.round(record.audioOutMs),
        record.turns,
        record.llmInputTokens,
        record.llmOutputTokens,
      ],
    );
  }

  async usage(query: UsageQuery): Promise<UsageTotals> {
    const where: string[] = [];
    const params: Param[] = [];
    if (query.projectId !== undefined) {
      where.push('project_id = ?');
      params.push(query.projectId);
    }
    if (query.start !== undefined) {
      where.push('started_at >= ?');
      params.push(query.start);
    }
    if (query.end !== undefined) {
      where.push('started_at < ?');
      params.push(query.end);
    }
    const rows = await this.db.all(
      `SELECT think_tier, COUNT(*) AS sessions, SUM(connection_ms) AS connection_ms, SUM(audio_in_ms) AS audio_in_ms, SUM(audio_out_ms) AS audio_out_ms,
              SUM(turns) AS turns, SUM(llm_input_tokens) AS llm_input_tokens, SUM(llm_output_tokens) AS llm_output_tokens
       FROM usage_records ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} GROUP BY think_tier`,
      params,
    );
    const byThinkTier: Record<ThinkTier, UsageFigures> = { operator: noUsage(), client: noUsage() };
    for (const row of rows) {
      const tier = row['think_tier'];
      if (tier === 'operator' || tier === 'client') byThinkTier[tier] = figures(row);
    }
    const total = noUsage();
    for (const part of Object.values(byThinkTier)) {
      for (const field of Object.keys(total) as (keyof UsageFigures)[]) total[field] += part[field];
    }
    return { ...total, byThinkTier };
  }

  async createAgent(input: { projectId: string; config: Record<string, unknown>; metadata?: Record<string, string> }): Promise<StoredAgent> {
    const created: StoredAgent = { id: randomUUID(), projectId: input.projectId, config: input.config, metadata: input.metadata ?? {}, createdAt: Date.now() };
    await this.db.run('INSERT INTO agents (id, project_id, config, metadata, created_at) VALUES (?, ?, ?, ?, ?)', [
      created.id,
      created.projectId,
      JSON.stringify(created.config),
      JSON.stringify(created.metadata),
      created.createdAt,
    ]);
    return created;
  }

  async listAgents(projectId: string): Promise<StoredAgent[]> {
    return (await this.db.all('SELECT * FROM agents WHERE project_id = ? ORDER BY created_at, id', [projectId])).map(agent);
  }

  async getAgent(id: string): Promise<StoredAgent | undefined> {
    const [row] = await this.db.all('SELECT * FROM agents WHERE id = ?', [id]);
    return row === undefined ? undefined : agent(row);
  }

  async deleteAgent(projectId: string, id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM agents WHERE id = ? AND project_id = ?', [id, projectId])) > 0;
  }

  async sharedSecret(name: string, create: () => string): Promise<string> {
    await this.db.run('INSERT INTO shared_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, create()]);
    const [row] = await this.db.all('SELECT value FROM shared_secrets WHERE name = ?', [name]);
    return String(row?.['value']);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
