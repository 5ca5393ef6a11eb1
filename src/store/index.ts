import { homedir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export type { ApiKey, Project, Store, StoredAgent, ThinkTier, UsageFigures, UsageRecord, UsageTotals } from './types.js';
export { hashSecret, newKeySecret, parseDuration, parseExpiry } from './keys.js';
export { openPostgresStore } from './postgres.js';
export { openSqliteStore } from './sqlite.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where the embedded store lives: `PARLEY_DATA_DIR`, by default `~/.local/share/parley`. */
export function dataDir(env: Env): string {
  const dir = env['PARLEY_DATA_DIR'];
  if (dir !== undefined && dir !== '') return dir;
  return join(env['XDG_DATA_HOME'] ?? join(homedir(), '.local', 'share'), 'parley');
}

/** Says where the store of this environment is, without its password. */
export function describeStore(env: Env): string {
  if (env['PARLEY_STORE'] === 'off') return 'off';
  const url = env['PARLEY_DATABASE_URL'];
  if (url !== undefined && url !== '') {
    try {
      const parsed = new URL(url);
      return `postgres ${parsed.host}${parsed.pathname}`;
    } catch {
      return 'postgres (unparsable PARLEY_DATABASE_URL)';
    }
  }
  return `sqlite ${join(dataDir(env), 'parley.db')}`;
}

/**
 * The store this environment names: PostgreSQL at `PARLEY_DATABASE_URL` when set (many
 * processes), else SQLite in the data dir; none with `PARLEY_STORE=off`.
 */
export async function openStore(env: Env): Promise<Store | undefined> {
  if (env['PARLEY_STORE'] === 'off') return undefined;
  const url = env['PARLEY_DATABASE_URL'];
  if (url !== undefined && url !== '') return openPostgresStore(url);
  return openSqliteStore(join(dataDir(env), 'parley.db'));
}
