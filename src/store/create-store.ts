import { createSqliteStore } from "./sqlite-store.js";
import type { QueryObserver, Store } from "./store.js";

/** Where the inventory lives. */
export type DatabaseConfig = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

export interface CreateStoreOptions {
  onQuery?: QueryObserver;
  /** SQLite only: bytes read through a memory mapping (0: none). */
  sqliteMmapBytes?: number;
  /** PostgreSQL only: longest wait for a connection, in ms. */
  connectTimeoutMs?: number;
  /** PostgreSQL only: longest time one statement may run, in ms. */
  queryTimeoutMs?: number;
  /** PostgreSQL only: most pooled connections. */
  poolMax?: number;
  /** PostgreSQL only: errors no call is waiting for (an idle connection dropped by the server). */
  onBackgroundError?: (error: Error) => void;
}

/** The store a DATABASE_URL names: SQLite (the embedded default) or PostgreSQL. */
export async function createStore(database: DatabaseConfig, options: CreateStoreOptions = {}): Promise<Store> {
  switch (database.kind) {
    case "sqlite":
      return createSqliteStore({
        path: database.path,
        ...(options.onQuery ? { onQuery: options.onQuery } : {}),
        ...(options.sqliteMmapBytes !== undefined ? { mmapSizeBytes: options.sqliteMmapBytes } : {}),
      });
    case "postgres": {
      const { createPostgresStore } = await import("./postgres-store.js");
      return createPostgresStore({ url: database.url, ...options });
    }
  }
}
