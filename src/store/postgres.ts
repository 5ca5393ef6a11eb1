import pg from 'pg';
import type { PoolClient } from 'pg';
import { SqlStore } from './sql-store.js';
import type { Db, Param, Row } from './sql-store.js';

/** An arbitrary constant naming Parley's migration lock among the database's advisory locks. */
const MIGRATION_LOCK_ID = 7_173_021;

/** The shared SQL writes `?`; PostgreSQL numbers its parameters. None of the SQL has a `?` in a literal. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

type Queryable = Pick<pg.Pool, 'query'> | PoolClient;

function executor(target: Queryable): Pick<Db, 'all' | 'run'> {
  return {
    async all(sql: string, params: readonly Param[] = []): Promise<Row[]> {
      return (await target.query(numbered(sql), [...params])).rows as Row[];
    },
    async run(sql: string, params: readonly Param[] = []): Promise<number> {
      return (await target.query(numbered(sql), [...params])).rowCount ?? 0;
    },
  };
}

class PostgresDb implements Db {
  readonly kind = 'postgres';
  readonly forUpdate = ' FOR UPDATE';
  readonly migrationLock = [`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`];
  readonly all: Db['all'];
  readonly run: Db['run'];

  constructor(private readonly pool: pg.Pool) {
    ({ all: this.all, run: this.run } = executor(pool));
  }

  async transaction<T>(work: (db: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const inside: Db = {
      ...executor(client),
      kind: this.kind,
      forUpdate: this.forUpdate,
      migrationLock: this.migrationLock,
      transaction: () => Promise.reject(new Error('nested transactions are not supported')),
      close: () => Promise.resolve(),
    };
    try {
      await client.query('BEGIN');
      const result = await work(inside);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** The store for many processes: one PostgreSQL database (PARLEY_DATABASE_URL). */
export async function openPostgresStore(url: string): Promise<SqlStore> {
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  // An idle client losing its connection (a database restart) must not crash the process.
  pool.on('error', () => undefined);
  const store = new SqlStore(new PostgresDb(pool));
  try {
    await store.migrate();
  } catch (err) {
    await pool.end();
    throw err;
  }
  return store;
}
