/**
 * The schema, as numbered migrations applied in order and recorded in `schema_migrations`. The
 * SQL is the subset SQLite and PostgreSQL share, so both stores run the same text. A released
 * migration is never edited: a change is a new entry at the end.
 */
export const MIGRATIONS: readonly { version: number; statements: readonly string[] }[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE projects (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        concurrency_limit INTEGER,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        secret_hash TEXT NOT NULL UNIQUE,
        comment TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        revoked_at BIGINT
      )`,
      `CREATE INDEX api_keys_project ON api_keys(project_id)`,
      `CREATE TABLE session_slots (
        session_id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        holder TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      )`,
      `CREATE INDEX session_slots_project ON session_slots(project_id)`,
      `CREATE INDEX session_slots_holder ON session_slots(holder)`,
      `CREATE TABLE usage_records (
        session_id TEXT PRIMARY KEY,
        project_id TEXT,
        key_id TEXT,
        think_tier TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        ended_at BIGINT NOT NULL,
        connection_ms BIGINT NOT NULL,
        audio_in_ms BIGINT NOT NULL,
        audio_out_ms BIGINT NOT NULL,
        turns INTEGER NOT NULL,
        llm_input_tokens BIGINT NOT NULL,
        llm_output_tokens BIGINT NOT NULL
      )`,
      `CREATE INDEX usage_records_project_started ON usage_records(project_id, started_at)`,
      `CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        config TEXT NOT NULL,
        metadata TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX agents_project ON agents(project_id)`,
      `CREATE TABLE shared_secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      )`,
    ],
  },
];

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`;
