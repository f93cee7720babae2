import type { CheckpointItem, Server, Volume } from "../domain/types.js";
import type { InventoryCounts } from "./store.js";

/** Validated records in file order, appended to what the import has staged so far. */
export interface BulkRecords {
  checkpointItems: CheckpointItem[];
  servers: Server[];
  volumes: Volume[];
}

/**
 * A record whose id may repeat an earlier record's of the same list (in file order): its
 * list, its index (for a volume backup, its item's index and its position in the item).
 */
export type DuplicateCandidate =
  | { list: "checkpoint_items" | "servers" | "volumes"; index: number; id: string }
  | { list: "volume_backups"; index: number; position: number; id: string };

/**
 * A streamed import into a store (docs/contract.md §9): records are staged as they are read
 * (nothing is visible to readers), checked for duplicate ids, then merged into the store's
 * tables in one transaction, or dropped. Used once: `commit` or `abort`, never both.
 */
export interface BulkImport {
  /** Stages records (the store's staging tables; not yet in the inventory). */
  stage(records: BulkRecords): Promise<void>;
  /** Ends staging: every record has been staged. */
  endStaging(): Promise<void>;
  /** After endStaging: whether a staged record before the candidate in its list has its id. */
  hasEarlier(candidate: DuplicateCandidate): Promise<boolean>;
  /** Merges everything staged into the inventory in one transaction (an upsert per record). */
  commit(onStep?: (step: string) => void): Promise<InventoryCounts>;
  /** Drops everything staged; the inventory is unchanged. */
  abort(): Promise<void>;
}
