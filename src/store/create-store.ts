import { createSqliteStore } from "./sqlite-store.js";
import type { QueryObserver, Store } from "./store.js";

/** Where the inventory lives. */
export type DatabaseConfig = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

export interface CreateStoreOptions {
  onQuery?: QueryObserver;
  /** SQLite only: MiB read through a memory mapping (0: none). */
  sqliteMmapMb?: number;
  /** Most items, and most servers, kept between checks (0: none; STORE_CACHE_ENTRIES). */
  storeCacheEntries?: number;
  /** PostgreSQL only: longest wait for a connection, in ms. */
  dbConnectTimeoutMs?: number;
  /** PostgreSQL only: longest time one statement may run, in ms. */
  dbQueryTimeoutMs?: number;
  /** PostgreSQL only: most pooled connections. */
  dbPoolMax?: number;
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
        sqliteMmapMb: options.sqliteMmapMb,
        cacheEntries: options.storeCacheEntries,
      });
    case "postgres": {
      const { createPostgresStore } = await import("./postgres-store.js");
      return createPostgresStore({ url: database.url, ...options, cacheEntries: options.storeCacheEntries });
    }
  }
}
