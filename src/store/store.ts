import type { CheckpointItem, Inventory, Server, Volume } from "../domain/types.js";
import type { BulkImport } from "./bulk-import.js";
import type { FactsCacheStats } from "./facts-cache.js";

/** The objects to delete, all of one project. */
export interface InventoryDeletes {
  projectId: string;
  checkpointItemIds: ReadonlyArray<string>;
  serverIds: ReadonlyArray<string>;
  volumeIds: ReadonlyArray<string>;
}

/** How many records one write touched. */
export interface InventoryCounts {
  checkpointItems: number;
  servers: number;
  volumes: number;
}

/**
 * Reports each query: the table it read or wrote, and how long it took. A statement that
 * reads several tables (a join) is reported once for each of them, with its duration.
 */
export type QueryObserver = (table: string, seconds: number) => void;

/** What one check reads: its project, provider, checkpoint items (none for CheckProtectable) and servers. */
export interface CheckLookup {
  projectId: string;
  providerId: string;
  /** Distinct ids. */
  checkpointItemIds: ReadonlyArray<string>;
  /** Distinct ids. */
  serverIds: ReadonlyArray<string>;
}

/** Everything one check needs from the store, as read by one call. */
export interface CheckFacts {
  providerKnown: boolean;
  /** The checkpoint items of the project and provider, with their volume backups, by id. */
  items: Map<string, CheckpointItem>;
  /** The servers of the project, by id. */
  servers: Map<string, Server>;
  /** The project's volumes attached to the servers (by server id, also when the server itself is absent), ordered by volume id. */
  volumes: Map<string, Volume[]>;
}

/**
 * The inventory store. Every lookup is batched (one query per table, whatever the number
 * of ids) and scoped to one project: another project's objects do not exist.
 */
export interface Store {
  readonly kind: "sqlite" | "postgres";
  /**
   * The hot path: the provider, the items with their backups, the servers and their
   * volumes of one check, as committed in the database (SQLite: from its cache of recent
   * objects, exact, and at most two statements for the others, each specialised for a single
   * id; PostgreSQL: one statement, one round trip, no cache: several instances share it).
   */
  lookUp(lookup: CheckLookup): Promise<CheckFacts>;
  hasProvider(providerId: string): Promise<boolean>;
  /** Checkpoint items of the project and provider, with their volume backups, by id. */
  getCheckpointItems(
    projectId: string,
    providerId: string,
    ids: ReadonlyArray<string>,
  ): Promise<Map<string, CheckpointItem>>;
  /** Servers of the project, by id. */
  getServers(projectId: string, ids: ReadonlyArray<string>): Promise<Map<string, Server>>;
  /** Volumes of the project attached to these servers, by server id, ordered by volume id. */
  getAttachedVolumes(projectId: string, serverIds: ReadonlyArray<string>): Promise<Map<string, Volume[]>>;
  /** Upserts the records and then applies the deletes, all in one transaction. */
  write(upserts: Inventory, deletes?: ReadonlyArray<InventoryDeletes>): Promise<InventoryCounts>;
  /** Starts a streamed import (src/store/bulk-import.ts): staged, then merged in one transaction. */
  openBulkImport(): Promise<BulkImport>;
  /** The hot path's cache of looked-up objects (SQLite), counted since start; absent: no cache (PostgreSQL). */
  cacheStats?(): FactsCacheStats;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by a store that cannot reach its database; becomes 503 CSBS.9998. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}
