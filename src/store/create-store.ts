import { createSqliteStore } from "./sqlite-store.js";
import type { QueryObserver, Store } from "./store.js";

/** Where the inventory lives. */
export type DatabaseConfig = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

export interface CreateStoreOptions {
  onQuery?: QueryObserver;
}

/** The store a DATABASE_URL names: SQLite (the embedded default) or PostgreSQL. */
export async function createStore(database: DatabaseConfig, options: CreateStoreOptions = {}): Promise<Store> {
  switch (database.kind) {
    case "sqlite":
      return createSqliteStore({ path: database.path, ...options });
    case "postgres": {
      const { createPostgresStore } = await import("./postgres-store.js");
      return createPostgresStore({ url: database.url, ...options });
    }
  }
}
