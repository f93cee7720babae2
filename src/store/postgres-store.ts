import type { QueryObserver, Store } from "./store.js";

export interface PostgresStoreOptions {
  url: string;
  onQuery?: QueryObserver;
}

export async function createPostgresStore(_options: PostgresStoreOptions): Promise<Store> {
  throw new Error("PostgreSQL store: not implemented yet");
}
