import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { SqlStore } from './sql-store.js';
import type { Db, Param, Row } from './sql-store.js';

/** How long a statement waits for another connection's write lock on the same file. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * SQLite's own busy wait would block the event loop while another process holds the write lock,
 * so the lock is waited for here, with timers: SQLITE_BUSY is retried every few milliseconds.
 */
async function retryBusy<T>(work: () => T | Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 10));
    }
  }
}

/**
 * better-sqlite3 is synchronous: each statement here is an indexed lookup or a one-row write, a
 * few microseconds, so it runs on the event loop; what the store does per session is one slot
 * taken and released and one usage row written, never per frame.
 */
class SqliteDb implements Db {
  readonly kind = 'sqlite';
  /** `BEGIN IMMEDIATE` already holds the whole database. */
  readonly forUpdate = '';
  readonly migrationLock: readonly string[] = [];
  private readonly statements = new Map<string, Statement>();
  /** Transactions run one after the other: the connection has one transaction at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: Database.Database) {}

  private prepare(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  all(sql: string, params: readonly Param[] = []): Promise<Row[]> {
    return this.serialized(() => retryBusy(() => this.allNow(sql, params)));
  }

  run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.serialized(() => retryBusy(() => this.runNow(sql, params)));
  }

  private allNow(sql: string, params: readonly Param[]): Row[] {
    return this.prepare(sql).all(...params) as Row[];
  }

  private runNow(sql: string, params: readonly Param[]): number {
    return this.prepare(sql).run(...params).changes;
  }

  transaction<T>(work: (db: Db) => Promise<T>): Promise<T> {
    return this.serialized(async () => {
      const inside: Db = {
        kind: this.kind,
        forUpdate: this.forUpdate,
        migrationLock: this.migrationLock,
        all: (sql, params = []) => Promise.resolve(this.allNow(sql, params)),
        run: (sql, params = []) => Promise.resolve(this.runNow(sql, params)),
        transaction: () => Promise.reject(new Error('nested transactions are not supported')),
        close: () => Promise.resolve(),
      };
      // IMMEDIATE takes the write lock at once, so another process's transaction waits for it
      // instead of failing to upgrade a read lock halfway through.
      await retryBusy(() => this.db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await work(inside);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  private serialized<T>(work: () => T | Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): Promise<void> {
    return this.serialized(() => {
      this.db.close();
    });
  }
}

/** The embedded store: one SQLite file (WAL, so readers never wait for the writer). */
export async function openSqliteStore(path: string): Promise<SqlStore> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // Opening waits for the lock the usual way (once, at start); every later statement retries with timers.
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 0');
  const store = new SqlStore(new SqliteDb(db));
  await store.migrate();
  return store;
}
