import type { CheckpointItem, Inventory, Server, Volume } from "../domain/types.js";
import type { BulkImport } from "./bulk-import.js";

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

/** Reports each query: the table it read or wrote, and how long it took. */
export type QueryObserver = (table: string, seconds: number) => void;

/**
 * The inventory store. Every lookup is batched (one query per table, whatever the number
 * of ids) and scoped to one project: another project's objects do not exist.
 */
export interface Store {
  readonly kind: "sqlite" | "postgres";
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
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by a store that cannot reach its database; becomes 503 CSBS.9998. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}
